package sdj.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.SplittableRandom;
import sdj.tensor.DType;
import sdj.tensor.Storage;

/**
 * Shared pieces of the CUDA parity tests: the GPU assumption, random inputs, rounding inputs to the
 * device dtype (so the CPU reference sees exactly the values the GPU sees), and the tolerance check.
 *
 * <p>Error measure: max |gpu − cpu| / max |cpu| over the tensor (relative to the tensor's scale,
 * so values near zero after cancellation do not dominate). Tolerances: fp32 1e-4, fp16 2e-2,
 * bf16 5e-2 (fp16/bf16 outputs are themselves rounded to 11/8 significant bits).
 */
final class CudaTestSupport {
    private CudaTestSupport() {
    }

    static CudaOps opsOrSkip() {
        assumeTrue(Cuda.available(), () -> "skipped: CUDA unavailable: " + Cuda.unavailableReason());
        return new CudaOps(Cuda.device());
    }

    /**
     * True when the tests run on the host emulator of our kernels (no GPU here): tests with large
     * SD shapes then use smaller ones with the same edge cases (tails of every tile size).
     */
    static boolean emulated() {
        return Cuda.available() && Cuda.device().isEmulated();
    }

    static float tolerance(DType dtype) {
        return switch (dtype) {
            case F32 -> 1e-4f;
            case F16 -> 2e-2f;
            case BF16 -> 5e-2f;
            default -> throw new IllegalArgumentException(dtype.toString());
        };
    }

    static float[] random(long seed, int n, float scale) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) ((r.nextDouble() * 2 - 1) * scale);
        }
        return v;
    }

    /** The values as the device stores them in {@code dtype}, back in fp32. */
    static float[] rounded(float[] v, DType dtype) {
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = switch (dtype) {
                case F32 -> v[i];
                case F16 -> Float.float16ToFloat(Float.floatToFloat16(v[i]));
                case BF16 -> Float.intBitsToFloat((Storage.floatToBf16(v[i]) & 0xffff) << 16);
                default -> throw new IllegalArgumentException(dtype.toString());
            };
        }
        return out;
    }

    /** Uploads v (already rounded with {@link #rounded}) to the device as dtype. */
    static CudaTensor upload(CudaOps ops, float[] v, DType dtype, int... shape) {
        return CudaTensor.upload(ops.device(), sdj.tensor.Tensor.of(v.clone(), shape), dtype);
    }

    static void assertClose(float[] expected, float[] actual, DType dtype, String what) {
        assertClose(expected, actual, tolerance(dtype), what + " " + dtype);
    }

    static void assertClose(float[] expected, float[] actual, float tol, String what) {
        assertTrue(expected.length == actual.length, what + ": " + actual.length + " values, expected " + expected.length);
        double maxRef = 1e-6;
        double maxErr = 0;
        int worst = 0;
        for (int i = 0; i < expected.length; i++) {
            maxRef = Math.max(maxRef, Math.abs(expected[i]));
            double e = Math.abs(expected[i] - actual[i]);
            if (!(e <= maxErr)) { // also catches NaN
                maxErr = Double.isNaN(e) ? Double.POSITIVE_INFINITY : e;
                worst = i;
            }
        }
        double rel = maxErr / maxRef;
        assertTrue(rel <= tol, String.format("%s: max error %.3g relative to max |ref| %.3g = %.3g > %.1g (worst at %d:"
                + " gpu %s, cpu %s)", what, maxErr, maxRef, rel, tol, worst, actual[worst], expected[worst]));
    }
}
