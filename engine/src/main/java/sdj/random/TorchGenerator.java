package sdj.random;

import sdj.tensor.Shape;
import sdj.tensor.Tensor;

/**
 * PyTorch's CPU generator, bit for bit: {@code torch.manual_seed(s); torch.randn(shape)} gives the
 * same fp32 values here as PyTorch on x86 CPUs with AVX2 (the kernel torch dispatches to there;
 * checked against PyTorch 1.13 output). Same seed, same starting noise as the Python tools.
 *
 * <p>randn has two paths in torch, kept apart here:
 * <ul>
 *   <li>fewer than 16 values: {@code at::normal_distribution<double>} per element: two 53-bit
 *       uniforms from {@link #random64()}, Box–Muller in double, the sine half cached for the next
 *       element (the cache lives in the generator and survives between calls, as in torch);
 *   <li>16 or more: {@code normal_fill}: every element first gets a 24-bit float uniform from
 *       {@link #random()}, then each block of 16 becomes 8 Box–Muller pairs (radius from the first
 *       eight, angle from the last eight) evaluated with the AVX2 Cephes float math; a tail that is
 *       not a whole block is redrawn as the last 16 values and transformed again.
 * </ul>
 */
public final class TorchGenerator {
    private static final int BLOCK = 16;
    private static final float TWO_PI_F = (float) (2.0 * Math.PI);
    private static final CephesFloat MATH = new CephesFloat(true);

    private Mt19937 engine;
    private long seed;
    private boolean hasCachedNormal;
    private double cachedNormal;

    public TorchGenerator(long seed) {
        manualSeed(seed);
    }

    /** {@code torch.manual_seed(seed)}: restarts the stream and drops the cached normal. */
    public TorchGenerator manualSeed(long seed) {
        this.seed = seed;
        this.engine = new Mt19937(seed);
        this.hasCachedNormal = false;
        return this;
    }

    public long initialSeed() {
        return seed;
    }

    /** torch's {@code random()}: the next 32 bits as an unsigned value. */
    public long random() {
        return Integer.toUnsignedLong(engine.nextInt());
    }

    /** torch's {@code random64()}: two 32-bit draws, the first one the high half. */
    public long random64() {
        long hi = Integer.toUnsignedLong(engine.nextInt());
        long lo = Integer.toUnsignedLong(engine.nextInt());
        return (hi << 32) | lo;
    }

    /** {@code uniform_real_distribution<float>(0, 1)}: 24 random bits scaled into [0, 1). */
    float uniformFloat() {
        return (engine.nextInt() & ((1 << 24) - 1)) * 0x1p-24f;
    }

    /** {@code uniform_real_distribution<double>(0, 1)}: 53 random bits scaled into [0, 1). */
    double uniformDouble() {
        return (random64() & ((1L << 53) - 1)) * 0x1p-53;
    }

    /** One {@code at::normal_distribution<double>(0, 1)} draw, using and refilling the cache. */
    double normalDouble() {
        if (hasCachedNormal) {
            hasCachedNormal = false;
            return cachedNormal;
        }
        double u1 = uniformDouble();
        double u2 = uniformDouble();
        double r = Math.sqrt(-2.0 * Math.log1p(-u2));
        double theta = 2.0 * Math.PI * u1;
        cachedNormal = r * Math.sin(theta);
        hasCachedNormal = true;
        return r * Math.cos(theta);
    }

    /** Fills {@code out} with standard normals exactly as {@code normal_(0, 1)} fills a contiguous fp32 tensor. */
    public void fillStandardNormal(float[] out) {
        int n = out.length;
        if (n < BLOCK) {
            for (int i = 0; i < n; i++) {
                out[i] = (float) normalDouble();
            }
            return;
        }
        for (int i = 0; i < n; i++) {
            out[i] = uniformFloat();
        }
        float[] sc = new float[2];
        for (int i = 0; i + BLOCK <= n; i += BLOCK) {
            boxMuller16(out, i, sc);
        }
        if (n % BLOCK != 0) {
            int start = n - BLOCK;
            for (int i = 0; i < BLOCK; i++) {
                out[start + i] = uniformFloat();
            }
            boxMuller16(out, start, sc);
        }
    }

    /** normal_fill_16 (AVX2): 8 radius uniforms then 8 angle uniforms become 8 cos and 8 sin values. */
    private static void boxMuller16(float[] data, int at, float[] sc) {
        for (int j = 0; j < BLOCK / 2; j++) {
            float u1 = 1f - data[at + j]; // [0, 1) -> (0, 1] so the log is finite
            float u2 = data[at + j + 8];
            float radius = (float) Math.sqrt(-2f * MATH.log(u1));
            float theta = TWO_PI_F * u2;
            MATH.sincos(theta, sc);
            data[at + j] = radius * sc[1];
            data[at + j + 8] = radius * sc[0];
        }
    }

    /** {@code torch.randn(shape)} with this generator. */
    public Tensor randn(int... shape) {
        float[] out = new float[Math.toIntExact(Shape.numel(shape))];
        fillStandardNormal(out);
        return Tensor.of(out, shape);
    }

    /** {@code torch.randn_like(t)}: a fresh standard-normal tensor of t's shape. */
    public Tensor randnLike(Tensor t) {
        return randn(t.shape());
    }

    /**
     * Starting noise for a batch the way AUTOMATIC1111 seeds it: image i gets its own generator
     * seeded with {@code seed + i} and draws {@code randn(c, h, w)}, so an image's noise does not
     * depend on the batch size or its place in the batch.
     */
    public static Tensor batchNoise(long seed, int batch, int c, int h, int w) {
        int per = c * h * w;
        float[] all = new float[batch * per];
        float[] one = new float[per];
        for (int i = 0; i < batch; i++) {
            new TorchGenerator(seed + i).fillStandardNormal(one);
            System.arraycopy(one, 0, all, i * per, per);
        }
        return Tensor.of(all, batch, c, h, w);
    }
}
