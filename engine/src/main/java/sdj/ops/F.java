package sdj.ops;

import java.util.List;
import java.util.SplittableRandom;
import sdj.tensor.Device;
import sdj.tensor.Tensor;

/**
 * The functional vocabulary the networks are written in, named as in torch.nn.functional so the
 * model code reads like its PyTorch original. Each entry forwards to the op family that implements it.
 */
public final class F {
    private F() {
    }

    public static Tensor linear(Tensor x, Tensor w, Tensor b) {
        return MatMul.linear(x, w, b);
    }

    /** x·Wᵀ + b + x2·W2ᵀ as one output (see {@link MatMul#linearSum}). */
    public static Tensor linearSum(Tensor x, Tensor w, Tensor b, Tensor x2, Tensor w2) {
        return MatMul.linearSum(x, w, b, x2, w2);
    }

    public static Tensor conv2d(Tensor x, Tensor w, Tensor b, int stride, int padding) {
        return Conv.conv2d(x, w, b, stride, padding);
    }

    public static Tensor groupNorm(Tensor x, int groups, Tensor w, Tensor b, float eps) {
        return Norm.groupNorm(x, groups, w, b, eps);
    }

    /** silu(group_norm(x)): one fused kernel on the GPU. */
    public static Tensor groupNormSilu(Tensor x, int groups, Tensor w, Tensor b, float eps) {
        return Norm.groupNormSilu(x, groups, w, b, eps);
    }

    public static Tensor layerNorm(Tensor x, Tensor w, Tensor b, float eps) {
        return Norm.layerNorm(x, w, b, eps);
    }

    public static Tensor softmax(Tensor x) {
        return Softmax.softmax(x);
    }

    public static Tensor silu(Tensor x) {
        return Unary.silu(x);
    }

    public static Tensor gelu(Tensor x) {
        return Unary.gelu(x);
    }

    public static Tensor geluTanh(Tensor x) {
        return Unary.geluTanh(x);
    }

    public static Tensor quickGelu(Tensor x) {
        return Unary.quickGelu(x);
    }

    /** GEGLU: splits the last dim in halves (value, gate) and returns value·gelu(gate). */
    public static Tensor geglu(Tensor x) {
        return Unary.geglu(x);
    }

    public static Tensor attention(Tensor q, Tensor k, Tensor v, boolean causal) {
        return Attention.sdpa(q, k, v, causal);
    }

    public static Tensor embedding(Tensor ids, Tensor weight) {
        return Embedding.embedding(ids, weight);
    }

    public static Tensor upsampleNearest2x(Tensor x) {
        return Resample.upsampleNearest2x(x);
    }

    public static Tensor cat(List<Tensor> parts, int dim) {
        return Join.cat(parts, dim);
    }

    public static Tensor mseLoss(Tensor a, Tensor b) {
        return Unary.square(a.sub(b)).mean();
    }

    /** Inverted dropout; p = 0 (and eval mode, by passing 0) is the identity. */
    public static Tensor dropout(Tensor x, float p, SplittableRandom rng) {
        if (p == 0f) {
            return x;
        }
        if (p < 0f || p >= 1f) {
            throw new IllegalArgumentException("dropout probability " + p + " outside [0, 1)");
        }
        float[] mask = new float[(int) x.numel()];
        float keep = 1f / (1f - p);
        for (int i = 0; i < mask.length; i++) {
            mask[i] = rng.nextDouble() < p ? 0f : keep;
        }
        Tensor m = Tensor.of(mask, x.shape());
        return x.mul(x.isCuda() ? m.to(Device.CUDA, x.dtype()) : m); // the same mask on either device
    }
}
