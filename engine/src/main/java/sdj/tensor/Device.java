package sdj.tensor;

/**
 * Where a tensor's elements live. CPU tensors are Java heap or mapped memory and every op can read
 * them; CUDA tensors live in GPU memory (a {@link DeviceBuffer}) and the ops hand them to the CUDA
 * {@link Backend}.
 */
public enum Device {
    CPU, CUDA;

    /** Parses {@code --device cpu|cuda} (also "gpu"). */
    public static Device parse(String name) {
        return switch (name.toLowerCase()) {
            case "cpu" -> CPU;
            case "cuda", "gpu" -> CUDA;
            default -> throw new IllegalArgumentException("unknown device '" + name + "' (use cpu or cuda)");
        };
    }

    /** The lower-case name used on the command line and in messages. */
    public String label() {
        return name().toLowerCase();
    }
}
