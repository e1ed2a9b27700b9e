package sdj.nn;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import sdj.tensor.DType;
import sdj.tensor.Device;
import sdj.tensor.Shape;
import sdj.tensor.Tensor;

/**
 * All parameters of a model by their full checkpoint name. Built either from a loaded state dict
 * (tensors are checked against the shape the module asks for and converted once to fp32), or
 * with seeded random values when there is no checkpoint (full-size benchmarks, tests). Records
 * which names were used so the loader can report unused and missing keys. A store placed on a device
 * ({@link #placedOn}) converts each parameter once, as the module takes it, to the device and
 * storage dtype (fp16/bf16 weights for the GPU); a CPU store keeps the fp32 heap tensors of today.
 */
public final class ParameterStore {
    private final Map<String, Tensor> source;
    private final SplittableRandom random;
    private final Map<String, Tensor> params = new LinkedHashMap<>();
    private final String origin;
    private final Device device;
    private final DType dtype;

    private ParameterStore(Map<String, Tensor> source, SplittableRandom random, String origin, Device device,
            DType dtype) {
        this.source = source;
        this.random = random;
        this.origin = origin;
        this.device = device;
        this.dtype = dtype;
    }

    private ParameterStore(Map<String, Tensor> source, SplittableRandom random, String origin) {
        this(source, random, origin, Device.CPU, DType.F32);
    }

    /**
     * The same source, with parameters converted to {@code dtype} and copied to {@code device} as they
     * are taken. CPU math is fp32, so a CPU store accepts only F32.
     */
    public ParameterStore placedOn(Device device, DType dtype) {
        if (device == Device.CPU && dtype != DType.F32) {
            throw new IllegalArgumentException("CPU parameters are fp32 (CPU math is fp32); " + dtype
                    + " weights are for the cuda device");
        }
        return new ParameterStore(source, random, origin, device, dtype);
    }

    public Device device() {
        return device;
    }

    public DType dtype() {
        return dtype;
    }

    /** Parameters taken from a state dict; {@code origin} (e.g. the file name) appears in error messages. */
    public static ParameterStore fromStateDict(Map<String, Tensor> stateDict, String origin) {
        return new ParameterStore(stateDict, null, origin);
    }

    /** Parameters drawn from a seeded uniform(−1/√fan_in, 1/√fan_in) like PyTorch's default init. */
    public static ParameterStore random(long seed) {
        return new ParameterStore(null, new SplittableRandom(seed), "random weights");
    }

    public Params root() {
        return new Params(this, "");
    }

    Tensor take(String name, int[] shape, Init init) {
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
            if (device != Device.CPU) {
                t = found.to(device, dtype); // one conversion, straight from the checkpoint's own dtype
            } else {
                found = found.to(Device.CPU); // a model moved back from the GPU
                t = found.dtype() == DType.F32 && found.storage().heapFloats() != null && found.isContiguous() ? found
                        : Tensor.of(found.toFloatArray(), shape);
            }
        } else {
            t = init.create(shape, random);
            if (device != Device.CPU) {
                t = t.to(device, dtype);
            }
        }
        params.put(name, t);
        return t;
    }

    /** The parameters the model took, in creation order. */
    public Map<String, Tensor> parameters() {
        return Collections.unmodifiableMap(params);
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

        /** Kaiming-uniform-like: U(−1/√fan_in, 1/√fan_in) with fan_in = product of all but the first dim. */
        Init FAN_IN = (shape, r) -> {
            long fanIn = shape.length > 1 ? Shape.numel(shape) / shape[0] : shape[0];
            return uniform(shape, r, 1.0 / Math.sqrt(Math.max(1, fanIn)));
        };
        Init ONES = (shape, r) -> Tensor.full(1f, shape);
        Init ZEROS = (shape, r) -> Tensor.zeros(shape);
        Init NORMAL_002 = (shape, r) -> {
            float[] v = new float[Math.toIntExact(Shape.numel(shape))];
            for (int i = 0; i < v.length; i++) {
                // Box–Muller: the exact distribution does not matter for random-weight benchmarks
                double u1 = 1 - r.nextDouble();
                double u2 = r.nextDouble();
                v[i] = (float) (0.02 * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2));
            }
            return Tensor.of(v, shape);
        };

        private static Tensor uniform(int[] shape, SplittableRandom r, double bound) {
            float[] v = new float[Math.toIntExact(Shape.numel(shape))];
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) ((r.nextDouble() * 2 - 1) * bound);
            }
            return Tensor.of(v, shape);
        }
    }
}
