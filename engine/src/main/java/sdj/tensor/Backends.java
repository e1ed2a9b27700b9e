package sdj.tensor;

import java.util.EnumMap;
import java.util.Map;
import java.util.ServiceLoader;

/** The backend of each device, found once with {@link ServiceLoader}; the device an op's inputs agree on. */
public final class Backends {
    private static final Map<Device, Backend> BY_DEVICE = load();

    private Backends() {
    }

    private static Map<Device, Backend> load() {
        Map<Device, Backend> found = new EnumMap<>(Device.class);
        for (Backend b : ServiceLoader.load(Backend.class, Backends.class.getClassLoader())) {
            found.putIfAbsent(b.device(), b);
        }
        if (!found.containsKey(Device.CPU)) {
            throw new IllegalStateException("no CPU backend on the class path (META-INF/services/" + Backend.class.getName()
                    + " is missing from the engine jar)");
        }
        return found;
    }

    /** The backend for device; fails with one sentence when this build has none. */
    public static Backend of(Device device) {
        Backend b = BY_DEVICE.get(device);
        if (b == null) {
            throw new IllegalStateException("this build of sdj has no " + device.label() + " backend; use --device cpu");
        }
        return Profiling.enabled() ? Profiling.wrapped(b) : b;
    }

    public static Backend cpu() {
        return of(Device.CPU);
    }

    /**
     * The backend of the device all non-null inputs live on; mixing devices is one sentence naming the op.
     */
    public static Backend of(String op, Tensor... inputs) {
        Device device = null;
        for (Tensor t : inputs) {
            if (t == null) {
                continue;
            }
            Device d = t.device();
            if (device == null) {
                device = d;
            } else if (d != device) {
                Device first = d.ordinal() < device.ordinal() ? d : device;
                Device second = first == d ? device : d;
                throw new IllegalArgumentException(op + " got tensors on " + first.label() + " and " + second.label()
                        + "; move them to one device first (tensor.to(Device.CUDA) or tensor.cpu())");
            }
        }
        return of(device == null ? Device.CPU : device);
    }
}
