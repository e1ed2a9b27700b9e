package sdj.sd;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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
 * device in one storage dtype, chosen at load ({@link #fromStateDict(Map, ModelConfigs, String, Device, DType)})
 * or by copying ({@link #to(Device, DType)}); the conversion happens once, per weight.
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
        ModelConfigs detected = configs.detectFrom(stateDict);
        Tensor ac = stateDict.get("alphas_cumprod");
        return new StableDiffusionModel(detected, ParameterStore.fromStateDict(stateDict, origin).placedOn(device, dtype),
                ac == null ? null : ac.toFloatArray());
    }

    /**
     * This model's weights on {@code device} stored as {@code dtype}, e.g.
     * {@code model.to(Device.CUDA, DType.F16)}: a new model; this one is left as it is.
     */
    public StableDiffusionModel to(Device device, DType dtype) {
        ParameterStore moved = ParameterStore.fromStateDict(store.parameters(), "the loaded model").placedOn(device, dtype);
        return new StableDiffusionModel(configs, moved, alphasCumprod);
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
        Device device = device();
        DType dtype = dtype();
        return (x, t, ctx) -> unet.forward(x.to(device, dtype), t, ctx.to(device)).to(Device.CPU, DType.F32);
    }

    /** Seeded random weights (benchmarks and tests of the full-size shapes). */
    public static StableDiffusionModel random(ModelConfigs configs, long seed) {
        return random(configs, seed, Device.CPU, DType.F32);
    }

    /** Seeded random weights created on {@code device} in {@code dtype} (they are made lazily, so not via {@link #to}). */
    public static StableDiffusionModel random(ModelConfigs configs, long seed, Device device, DType dtype) {
        ParameterStore store = ParameterStore.random(seed);
        return new StableDiffusionModel(configs, device == Device.CPU ? store : store.placedOn(device, dtype), null);
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

    /** Every parameter by its checkpoint name. */
    public Map<String, Tensor> parameters() {
        return store.parameters();
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
