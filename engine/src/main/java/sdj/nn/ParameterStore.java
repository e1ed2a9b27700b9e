package sdj.nn;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Predicate;
import sdj.tensor.DType;
import sdj.tensor.Device;
import sdj.tensor.Shape;
import sdj.tensor.Storage;
import sdj.tensor.Tensor;

/**
 * All parameters of a model by their full checkpoint name, as {@link Parameter} handles in creation
 * order. Built either from a loaded state dict (tensors are checked against the shape the module asks
 * for and converted once to fp32), or with seeded random values when there is no checkpoint
 * (full-size benchmarks, tests). Records which names were used so the loader can report unused and
 * missing keys. A store placed on a device ({@link #placedOn}) converts each parameter once, as the
 * module takes it, to the device and storage dtype (fp16/bf16 weights for the GPU); a CPU store keeps
 * fp32 tensors, using an fp32 checkpoint's weights in place from the mapped file ({@link #place}); a
 * parameter marked trainable gets its own heap copy first, since optimizers write into it.
 *
 * <p>For training: {@link #withAdapters} attaches LoRA adapters to the layers a rule matches (given
 * before the model is built); {@link #setTrainable} marks parameters by name; {@link #stateDict}
 * exports any subset; {@link #moveTo} moves every parameter to another device or dtype in place,
 * behind the same handles, so a built model keeps working and keeps its trainable set.
 */
public final class ParameterStore {
    private final Map<String, Tensor> source;
    private final SplittableRandom random;
    private final String origin;
    private final List<AdapterRule> adapterRules;
    private final Map<String, Parameter> params = new LinkedHashMap<>();
    private final Map<String, Layer> layers = new LinkedHashMap<>();
    private Device device;
    private DType dtype;
    private boolean training;
    private int fp32CopiesAtLoad;

    private ParameterStore(Map<String, Tensor> source, SplittableRandom random, String origin, Device device, DType dtype,
            List<AdapterRule> adapterRules) {
        this.source = source;
        this.random = random;
        this.origin = origin;
        this.device = device;
        this.dtype = dtype;
        this.adapterRules = List.copyOf(adapterRules);
    }

    /** Parameters taken from a state dict; {@code origin} (e.g. the file name) appears in error messages. */
    public static ParameterStore fromStateDict(Map<String, Tensor> stateDict, String origin) {
        return new ParameterStore(stateDict, null, origin, Device.CPU, DType.F32, List.of());
    }

    /** Parameters drawn from a seeded uniform(−1/√fan_in, 1/√fan_in) like PyTorch's default init. */
    public static ParameterStore random(long seed) {
        return new ParameterStore(null, new SplittableRandom(seed), "random weights", Device.CPU, DType.F32, List.of());
    }

    /**
     * The same source, with parameters converted to {@code dtype} and copied to {@code device} as they
     * are taken. CPU math is fp32, so a CPU store accepts only F32.
     */
    public ParameterStore placedOn(Device device, DType dtype) {
        requirePlacement(device, dtype);
        return new ParameterStore(source, random, origin, device, dtype, adapterRules);
    }

    /**
     * The same source and placement, building an adapter on every Linear and Conv2d whose full name a
     * rule matches (the first matching rule wins). Give the rules before the model is built.
     */
    public ParameterStore withAdapters(AdapterRule... rules) {
        List<AdapterRule> all = new ArrayList<>(adapterRules);
        all.addAll(Arrays.asList(rules));
        return new ParameterStore(source, random, origin, device, dtype, all);
    }

    public List<AdapterRule> adapterRules() {
        return adapterRules;
    }

    public Params root() {
        return new Params(this, "");
    }

    public Device device() {
        return device;
    }

    public DType dtype() {
        return dtype;
    }

    /**
     * How many fp32 checkpoint tensors were copied to the heap as they were taken because they could not
     * be used in place (strided, or not 4-byte aligned in the file); 0 for a well-formed fp32 file.
     */
    public int fp32CopiesAtLoad() {
        return fp32CopiesAtLoad;
    }

    // ---------------------------------------------------------------- creating parameters

    Parameter take(String name, int[] shape, Init init) {
        Tensor t;
        if (source != null) {
            Tensor found = source.get(name);
            if (found == null) {
                throw new IllegalArgumentException(origin + " has no tensor '" + name + "' (expected shape " + Shape.str(shape)
                        + "); is this a Stable Diffusion v1 checkpoint with the same model config?");
            }
            if (!Arrays.equals(found.shape(), shape)) {
                throw new IllegalArgumentException(origin + ": tensor '" + name + "' has shape " + Shape.str(found.shape())
                        + " but the model config expects " + Shape.str(shape)
                        + "; check the config (channels, context width, layer counts) matches the checkpoint");
            }
            if (device == Device.CPU && found.dtype() == DType.F32 && !usableInPlace(found.to(Device.CPU))) {
                fp32CopiesAtLoad++; // a strided or unaligned fp32 tensor: the one copy the kernels need
            }
            t = place(found, device, dtype); // one conversion, straight from the checkpoint's own dtype
        } else {
            t = place(init.create(shape, random), device, dtype);
        }
        return register(name, t);
    }

    /** The source's tensor when it has {@code name}, else {@code init} seeded by (seed, name): see {@link NameSeeds}. */
    Parameter takeOrInit(String name, int[] shape, Init init, long seed) {
        Tensor found = source == null ? null : source.get(name);
        if (found != null && !Arrays.equals(found.shape(), shape)) {
            throw new IllegalArgumentException(origin + ": tensor '" + name + "' has shape " + Shape.str(found.shape())
                    + " but the model expects " + Shape.str(shape) + (name.contains(".lora_")
                            ? "; set the adapter rule's rank to the file's (dim 0 of lora_down, dim 1 of lora_up)"
                            : "; remove it from the state dict to initialise it instead"));
        }
        Tensor t = found != null ? found : init.create(shape, new SplittableRandom(NameSeeds.of(seed, name)));
        Parameter p = register(name, place(t, device, dtype));
        if (found == null && dtype != DType.F32) {
            p.startMasterFrom(t); // mixed-precision training of a new adapter starts from its exact fp32 values
        }
        return p;
    }

    /** The fp32 value of the 0-dim tensor {@code name} in the source, or {@code fallback} when absent (adapter alphas). */
    float scalarValue(String name, float fallback) {
        Tensor found = source == null ? null : source.get(name);
        return found == null ? fallback : found.to(Device.CPU, DType.F32).item();
    }

    private Parameter register(String name, Tensor t) {
        if (params.containsKey(name)) {
            throw new IllegalStateException("parameter '" + name + "' is created twice; every module needs its own name");
        }
        Parameter p = new Parameter(name, t);
        params.put(name, p);
        return p;
    }

    void register(Layer layer) {
        layers.put(layer.name(), layer);
    }

    /** The first rule matching the module name, or null. */
    AdapterRule adapterRuleFor(String moduleName) {
        for (AdapterRule r : adapterRules) {
            if (r.matches(moduleName)) {
                return r;
            }
        }
        return null;
    }

    /**
     * {@code t} as a parameter on {@code device} in {@code dtype}: a device copy, or on the CPU a
     * contiguous fp32 tensor. The checkpoint's own tensor is kept when it already is one: a heap array,
     * or fp32 bytes in the memory-mapped file (or an inflated zip entry), which the CPU kernels read in
     * place, so the weights are not copied at load. Other dtypes (fp16/bf16 files), strided views and
     * fp32 data not 4-byte aligned in the file get one fp32 copy here, in native memory rather than on the
     * heap: the heap a run needs is then its activations', whatever the checkpoint's dtype.
     */
    static Tensor place(Tensor t, Device device, DType dtype) {
        if (device != Device.CPU) {
            return t.to(device, dtype);
        }
        Tensor host = t.to(Device.CPU); // a model moved back from the GPU
        if (usableInPlace(host)) {
            return host;
        }
        int[] shape = host.shape();
        return new Tensor(Storage.ofNativeCopy(host.toFloatArray()), shape, Shape.contiguousStrides(shape), 0);
    }

    /** A contiguous fp32 host tensor on the heap, or in a segment at a 4-byte aligned address. */
    static boolean usableInPlace(Tensor t) {
        if (t.dtype() != DType.F32 || !t.isContiguous()) {
            return false;
        }
        return t.storage().heapFloats() != null || (t.storage().segment().address() + 4 * t.offset()) % 4 == 0;
    }

    private static void requirePlacement(Device device, DType dtype) {
        if (device == Device.CPU && dtype != DType.F32) {
            throw new IllegalArgumentException("CPU parameters are fp32 (CPU math is fp32); " + dtype
                    + " weights are for the cuda device");
        }
    }

    // ---------------------------------------------------------------- the built model

    /** The current tensor of every parameter the model took, in creation order. */
    public Map<String, Tensor> parameters() {
        return stateDict(name -> true);
    }

    /** Every parameter handle, in creation order. */
    public Map<String, Parameter> handles() {
        return Collections.unmodifiableMap(params);
    }

    /**
     * The current tensors of the parameters whose full name {@code include} accepts, in creation order
     * (e.g. {@code LoraAdapter::isAdapterWeight} plus alphas for an adapter file). Live tensors, not
     * copies. While adapters are merged, layer weights include ΔW.
     */
    public Map<String, Tensor> stateDict(Predicate<String> include) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Parameter p : params.values()) {
            if (include.test(p.name())) {
                out.put(p.name(), p.tensor());
            }
        }
        return Collections.unmodifiableMap(out);
    }

    /** Every Linear and Conv2d by full module name, in creation order. */
    public Map<String, Layer> layers() {
        return Collections.unmodifiableMap(layers);
    }

    /** The adapters the rules attached, by adapted module name, in creation order. */
    public Map<String, LoraAdapter> adapters() {
        Map<String, LoraAdapter> out = new LinkedHashMap<>();
        for (Layer l : layers.values()) {
            if (l.adapter() != null) {
                out.put(l.name(), l.adapter());
            }
        }
        return Collections.unmodifiableMap(out);
    }

    /** How many tensors and elements a {@link #setTrainable} call marked. */
    public record TrainableCount(int tensors, long elements) {
        @Override
        public String toString() {
            return tensors + " tensors, " + elements + " parameters";
        }
    }

    /** Marks exactly the parameters whose full name {@code include} accepts as trainable (requiresGrad); clears the rest. */
    public TrainableCount setTrainable(Predicate<String> include) {
        int tensors = 0;
        long elements = 0;
        for (Parameter p : params.values()) {
            boolean on = include.test(p.name());
            p.trainable(on);
            if (on) {
                tensors++;
                elements += p.numel();
            }
        }
        return new TrainableCount(tensors, elements);
    }

    /** The trainable parameters, in creation order. */
    public List<Parameter> trainable() {
        return params.values().stream().filter(Parameter::trainable).toList();
    }

    /** Names of the trainable parameters, in creation order. */
    public Set<String> trainableNames() {
        Set<String> out = new LinkedHashSet<>();
        trainable().forEach(p -> out.add(p.name()));
        return out;
    }

    /**
     * Moves every parameter to {@code device} in {@code dtype}, in place: each handle gets the converted
     * tensor (trainable ones get requiresGrad again; gradients stay with the old tensors), and later
     * parameters are created there too. CPU parameters are fp32.
     */
    public void moveTo(Device newDevice, DType newDtype) {
        requirePlacement(newDevice, newDtype);
        for (Parameter p : params.values()) {
            p.moveTo(newDevice, newDtype);
        }
        this.device = newDevice;
        this.dtype = newDtype;
    }

    /**
     * A fresh store whose source is this store's current parameters, with the same adapter rules,
     * placed on {@code device} in {@code dtype}: building the same model from it gives an independent
     * copy. Merged adapters would be counted twice in the copy, so they must be unmerged first.
     */
    public ParameterStore copySource(Device newDevice, DType newDtype) {
        for (LoraAdapter a : adapters().values()) {
            if (a.merged()) {
                throw new IllegalStateException("the adapter on " + a.module()
                        + " is merged; unmerge the adapters before copying the model (or move it in place with moveTo)");
            }
        }
        return new ParameterStore(parameters(), null, "the loaded model", Device.CPU, DType.F32, adapterRules)
                .placedOn(newDevice, newDtype);
    }

    /** Folds every adapter into its layer's weight ({@link LoraAdapter#merge()}). */
    public void mergeAdapters() {
        adapters().values().forEach(LoraAdapter::merge);
    }

    /** Restores every layer weight from before {@link #mergeAdapters()}. */
    public void unmergeAdapters() {
        adapters().values().forEach(LoraAdapter::unmerge);
    }

    /** Training mode turns on adapter dropout (as torch's {@code module.train()}); off by default. */
    public void setTraining(boolean on) {
        this.training = on;
    }

    public boolean training() {
        return training;
    }

    /** Keys of the source state dict starting with {@code prefix} that no module took. */
    public Set<String> unusedKeys(String prefix) {
        Set<String> unused = new LinkedHashSet<>();
        if (source != null) {
            for (String k : source.keySet()) {
                if (k.startsWith(prefix) && !params.containsKey(k)) {
                    unused.add(k);
                }
            }
        }
        return unused;
    }

    /** How a parameter is initialised when there is no checkpoint. */
    @FunctionalInterface
    public interface Init {
        Tensor create(int[] shape, SplittableRandom random);

        /**
         * Kaiming-uniform-like: U(−1/√fan_in, 1/√fan_in) with fan_in = product of all but the first dim
         * (exactly torch's kaiming_uniform_(a=√5), nn.Linear's and nn.Conv2d's default weight init).
         */
        Init FAN_IN = (shape, r) -> {
            long fanIn = shape.length > 1 ? Shape.numel(shape) / shape[0] : shape[0];
            return uniform(shape, r, 1.0 / Math.sqrt(Math.max(1, fanIn)));
        };
        Init ONES = (shape, r) -> Tensor.full(1f, shape);
        Init ZEROS = (shape, r) -> Tensor.zeros(shape);
        Init NORMAL_002 = normal(0.02);

        /** N(0, std²) by Box–Muller, two uniforms per value. */
        static Init normal(double std) {
            return (shape, r) -> {
                float[] v = new float[Math.toIntExact(Shape.numel(shape))];
                for (int i = 0; i < v.length; i++) {
                    double u1 = 1 - r.nextDouble();
                    double u2 = r.nextDouble();
                    v[i] = (float) (std * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2));
                }
                return Tensor.of(v, shape);
            };
        }

        /** Every element {@code value} (an adapter's alpha). */
        static Init constant(float value) {
            return (shape, r) -> Tensor.full(value, shape);
        }

        private static Tensor uniform(int[] shape, SplittableRandom r, double bound) {
            float[] v = new float[Math.toIntExact(Shape.numel(shape))];
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) ((r.nextDouble() * 2 - 1) * bound);
            }
            return Tensor.of(v, shape);
        }
    }
}
