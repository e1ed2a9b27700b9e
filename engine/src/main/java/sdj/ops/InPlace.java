package sdj.ops;

import java.util.Arrays;
import sdj.tensor.Autograd;
import sdj.tensor.Backend;
import sdj.tensor.Backends;
import sdj.tensor.Shape;
import sdj.tensor.Tensor;

/**
 * In-place updates for optimizers: {@code copy_}, {@code add_}, {@code mul_}, {@code zero_}, written into
 * the tensor's own storage on its device and never recorded. As in PyTorch, a tensor that requires grad
 * may be updated in place only where nothing is being recorded ({@code Autograd.noGrad()}), since the
 * tape may still hold it for a backward.
 */
public final class InPlace {
    private InPlace() {
    }

    /** dst ← src (src broadcast to dst's shape, converted to dst's dtype). Returns dst. */
    public static Tensor copy_(Tensor dst, Tensor src) {
        check("copy_", dst, src);
        Tensor from = Arrays.equals(src.shape(), dst.shape()) ? src : src.expand(dst.shape());
        Backends.of("copy_", dst, src).copyInto(from, dst);
        return dst;
    }

    /** dst += alpha·src. Returns dst. */
    public static Tensor add_(Tensor dst, Tensor src, float alpha) {
        check("add_", dst, src);
        Backends.of("add_", dst, src).addInPlace(dst, src, alpha);
        return dst;
    }

    /** dst *= s. Returns dst. */
    public static Tensor mul_(Tensor dst, float s) {
        check("mul_", dst, null);
        Backends.of("mul_", dst).scaleInPlace(dst, s);
        return dst;
    }

    /** dst ← 0. Returns dst. */
    public static Tensor zero_(Tensor dst) {
        check("zero_", dst, null);
        Backend backend = Backends.of("zero_", dst);
        backend.copyInto(backend.zeros(dst.dtype(), dst.shape()), dst);
        return dst;
    }

    private static void check(String op, Tensor dst, Tensor src) {
        if (Autograd.isGradEnabled() && dst.requiresGrad()) {
            throw new IllegalStateException(op + " on " + dst + " while gradients are recorded; update parameters"
                    + " inside Autograd.noGrad()");
        }
        if (src != null) {
            if (!Arrays.equals(Shape.broadcast(dst.shape(), src.shape()), dst.shape())) {
                throw new IllegalArgumentException(op + " cannot broadcast " + Shape.str(src.shape()) + " into "
                        + Shape.str(dst.shape()));
            }
        }
    }
}
