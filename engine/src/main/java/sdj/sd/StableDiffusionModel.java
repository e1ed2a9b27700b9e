package sdj.sd;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import sdj.nn.AdapterRule;
import sdj.nn.ParameterStore;
import sdj.nn.Params;
import sdj.sd.clip.ClipTextModel;
import sdj.sd.sample.ConditionalEpsModel;
import sdj.sd.unet.UNetModel;
import sdj.sd.vae.AutoencoderKL;
import sdj.tensor.DType;
import sdj.tensor.Device;
import sdj.tensor.Tensor;

/**
 * The three networks of an SD v1 checkpoint, built under their LDM key names from one parameter
 * store, plus the noise schedule buffer when the checkpoint carries it. The weights live on one
 * device in one storage dtype, chosen at load ({@link #fromStateDict(Map, ModelConfigs, String, Device, DType)}),
 * by copying ({@link #to(Device, DType)}) or by moving in place ({@link #moveTo(Device, DType)});
 * the conversion happens once, per weight. Adapters ({@link AdapterRule}) are given at load; the
 * {@link #store()} marks trainable parameters, exports them and merges adapters.
 */
public final class StableDiffusionModel {
    /** Keys a full LDM checkpoint holds that inference does not use: reported only on request. */
    private static final List<String> EXPECTED_UNUSED_PREFIXES = List.of("model_ema.", "betas", "alphas_cumprod",
            "alphas_cumprod_prev", "sqrt_", "log_one_minus_alphas_cumprod", "posterior_", "logvar",
            ClipTextModel.PREFIX + ".embeddings.position_ids", "first_stage_model.loss.");

    private final ModelConfigs configs;
    private final ParameterStore store;
    private final ClipTextModel clip;
    private final UNetModel unet;
    private final AutoencoderKL vae;
    private final float[] alphasCumprod;

    private StableDiffusionModel(ModelConfigs configs, ParameterStore store, float[] alphasCumprod) {
        this.configs = configs;
        this.store = store;
        Params root = store.root();
        this.clip = new ClipTextModel(root.sub(ClipTextModel.PREFIX), configs.clip());
        this.unet = new UNetModel(root.sub(UNetModel.PREFIX), configs.unet());
        this.vae = new AutoencoderKL(root.sub(AutoencoderKL.PREFIX), configs.vae());
        this.alphasCumprod = alphasCumprod;
    }

    /**
     * Builds the networks from a state dict; sizes the weights determine are detected from it, the
     * rest comes from {@code configs}. {@code origin} names the file in error messages.
     */
    public static StableDiffusionModel fromStateDict(Map<String, Tensor> stateDict, ModelConfigs configs, String origin) {
        return fromStateDict(stateDict, configs, origin, Device.CPU, DType.F32);
    }

    /** As above, with every weight converted to {@code dtype} and placed on {@code device} as it is taken. */
    public static StableDiffusionModel fromStateDict(Map<String, Tensor> stateDict, ModelConfigs configs, String origin,
            Device device, DType dtype) {
        return fromStateDict(stateDict, configs, origin, device, dtype, List.of());
    }

    /**
     * As above, with an adapter on every layer a rule matches; adapter tensors the state dict holds
     * (a LoRA merged into it under LDM names, see {@link sdj.nn.LoraAdapter}) are loaded, the others initialised.
     */
    public static StableDiffusionModel fromStateDict(Map<String, Tensor> stateDict, ModelConfigs configs, String origin,
            Device device, DType dtype, List<AdapterRule> adapters) {
        ModelConfigs detected = configs.detectFrom(stateDict);
        Tensor ac = stateDict.get("alphas_cumprod");
        ParameterStore store = ParameterStore.fromStateDict(stateDict, origin).placedOn(device, dtype)
                .withAdapters(adapters.toArray(AdapterRule[]::new));
        return new StableDiffusionModel(detected, store, ac == null ? null : ac.toFloatArray());
    }

    /**
     * This model's weights on {@code device} stored as {@code dtype}, e.g.
     * {@code model.to(Device.CUDA, DType.F16)}: a new model with new parameter handles (the same
     * adapters and trainable names); this one is left as it is. To keep the handles, {@link #moveTo}.
     */
    public StableDiffusionModel to(Device device, DType dtype) {
        StableDiffusionModel copy = new StableDiffusionModel(configs, store.copySource(device, dtype), alphasCumprod);
        Set<String> trainable = store.trainableNames();
        if (!trainable.isEmpty()) {
            copy.store.setTrainable(trainable::contains);
        }
        copy.store.setTraining(store.training());
        return copy;
    }

    /**
     * Moves every weight to {@code device} in {@code dtype} in place: the networks, their parameter
     * handles, adapters and trainable flags stay; only the tensors behind the handles change.
     */
    public void moveTo(Device device, DType dtype) {
        store.moveTo(device, dtype);
    }

    public Device device() {
        return store.device();
    }

    /** The storage dtype of the weights (F32 on the CPU). */
    public DType dtype() {
        return store.dtype();
    }

    /**
     * The UNet as the samplers call it: latents and ε on the host in fp32 (the samplers' arithmetic is
     * O(latent size) per step), the network on the model's device. On CUDA that is one 64 KB upload and
     * download per call at 512², nothing next to the UNet itself; on the CPU the transfers are no-ops.
     */
    public ConditionalEpsModel unetEps() {
        // device and dtype are read per call: the model may have moved since (moveTo)
        return (x, t, ctx) -> unet.forward(x.to(device(), dtype()), t, ctx.to(device())).to(Device.CPU, DType.F32);
    }

    /** Seeded random weights (benchmarks and tests of the full-size shapes). */
    public static StableDiffusionModel random(ModelConfigs configs, long seed) {
        return random(configs, seed, Device.CPU, DType.F32);
    }

    /** Seeded random weights created on {@code device} in {@code dtype} (they are made lazily, so not via {@link #to}). */
    public static StableDiffusionModel random(ModelConfigs configs, long seed, Device device, DType dtype) {
        return random(configs, seed, device, dtype, List.of());
    }

    /** As above, with adapters (initialised from their rules; the base weights are the same as without them). */
    public static StableDiffusionModel random(ModelConfigs configs, long seed, Device device, DType dtype,
            List<AdapterRule> adapters) {
        ParameterStore store = ParameterStore.random(seed);
        store = device == Device.CPU ? store : store.placedOn(device, dtype);
        return new StableDiffusionModel(configs, store.withAdapters(adapters.toArray(AdapterRule[]::new)), null);
    }

    public ModelConfigs configs() {
        return configs;
    }

    public ClipTextModel clip() {
        return clip;
    }

    public UNetModel unet() {
        return unet;
    }

    public AutoencoderKL vae() {
        return vae;
    }

    /** The checkpoint's ᾱ_t buffer, or null when it has none (then the standard schedule applies). */
    public float[] alphasCumprod() {
        return alphasCumprod == null ? null : alphasCumprod.clone();
    }

    /**
     * Drops from this process's resident memory the pages of the weights under {@code prefix} (e.g.
     * {@link UNetModel#PREFIX}) that are read in place from a mapped checkpoint, so a stage that is done
     * with them (CLIP after the prompt, the UNet before the VAE decode) stops holding them. The file's
     * pages stay in the page cache: a later read faults them back in without touching the disk. Heap and
     * device weights are left as they are. Returns the bytes released.
     */
    public long releaseMappedPages(String prefix) {
        return forMappedWeights(prefix, MemorySegment::unload);
    }

    /**
     * Makes the mapped weights under {@code prefix} resident now, in one sweep: their first reads (the
     * page faults of a fresh mapping, even when the file is in the page cache) then happen here rather than
     * inside the network's first kernels. Returns the bytes touched.
     */
    public long loadMappedPages(String prefix) {
        return forMappedWeights(prefix, MemorySegment::load);
    }

    private long forMappedWeights(String prefix, Consumer<MemorySegment> action) {
        long bytes = 0;
        for (Map.Entry<String, Tensor> e : store.parameters().entrySet()) {
            Tensor t = e.getValue();
            if (e.getKey().startsWith(prefix + ".") && t.device() == Device.CPU && t.storage().segment().isMapped()) {
                long size = t.numel() * t.dtype().byteSize;
                action.accept(t.storage().segment().asSlice(t.offset() * t.dtype().byteSize, size));
                bytes += size;
            }
        }
        return bytes;
    }

    /** Every parameter by its checkpoint name (the current tensors). */
    public Map<String, Tensor> parameters() {
        return store.parameters();
    }

    /** The parameter store: handles, layers, adapters, trainable marks, state-dict export, training mode. */
    public ParameterStore store() {
        return store;
    }

    /** Checkpoint keys no network took, leaving out the ones a full LDM checkpoint is expected to carry. */
    public List<String> unexpectedUnusedKeys() {
        List<String> out = new ArrayList<>();
        for (String k : store.unusedKeys("")) {
            if (EXPECTED_UNUSED_PREFIXES.stream().noneMatch(k::startsWith)) {
                out.add(k);
            }
        }
        return out;
    }
}
