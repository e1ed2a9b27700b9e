package sdj.train.cd;

import sdj.tensor.DType;
import sdj.tensor.Device;
import sdj.tensor.Tensor;

/**
 * One compressed Custom Diffusion weight as adobe's {@code compress.py} stores it: ΔW ≈ u·v with
 * u = U[:, :r]·diag(S[:r]) [C, r] and v = Vᵀ[:r] [r, in]; the weight is W_pre + u·v.
 */
public record LowRankDelta(Tensor u, Tensor v) {
    public LowRankDelta {
        if (u.dim() != 2 || v.dim() != 2 || u.size(1) != v.size(0)) {
            throw new IllegalArgumentException("a compressed delta needs u [C,r] and v [r,in] with the same r, got u "
                    + java.util.Arrays.toString(u.shape()) + " and v " + java.util.Arrays.toString(v.shape()));
        }
    }

    /** r, the number of singular values kept. */
    public int rank() {
        return u.size(1);
    }

    /** u·v [C, in] in float64, row-major. */
    public double[] product() {
        int rows = u.size(0);
        int r = rank();
        int cols = v.size(1);
        float[] uv = u.to(Device.CPU, DType.F32).toFloatArray();
        float[] vv = v.to(Device.CPU, DType.F32).toFloatArray();
        double[] out = new double[rows * cols];
        for (int i = 0; i < rows; i++) {
            for (int k = 0; k < r; k++) {
                double a = uv[i * r + k];
                for (int j = 0; j < cols; j++) {
                    out[i * cols + j] += a * vv[k * cols + j];
                }
            }
        }
        return out;
    }

    /** W_pre + u·v as float32 (what adobe's {@code sample.py --compress} loads); {@code key} names the weight. */
    public Tensor apply(Tensor pretrained, String key) {
        int[] shape = pretrained.shape();
        if (shape.length != 2 || shape[0] != u.size(0) || shape[1] != v.size(1)) {
            throw new IllegalArgumentException("compressed delta '" + key + "' has u " + java.util.Arrays.toString(
                    u.shape()) + " and v " + java.util.Arrays.toString(v.shape()) + " but the base weight is "
                    + java.util.Arrays.toString(shape) + "; was it made from this base checkpoint?");
        }
        float[] base = pretrained.to(Device.CPU, DType.F32).toFloatArray();
        double[] uv = product();
        float[] out = new float[base.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) (base[i] + uv[i]);
        }
        return Tensor.of(out, shape);
    }
}
