package sdj.backend.cpu;

/**
 * The transform matrices of Winograd's minimal filtering F(m×m, 3×3) (Lavin & Gray, "Fast Algorithms for
 * Convolutional Neural Networks", 2016): an α×α input tile d (α = m + 2) and a 3×3 filter g give the m×m
 * correlation y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A, with α² multiplications instead of 9·m².
 *
 * <p>F(2,3) (α = 4, interpolation points 0, ±1, ∞) has only ±1 in Bᵀ and Aᵀ; F(4,3) (α = 6, points 0,
 * ±1, ±2, ∞) saves more multiplications (2.25 per output instead of 4) but its matrices hold up to 5 and 8,
 * so fp32 rounding grows: on Gaussian data at 128–1280 channels its rms error is ~3e-6 of the outputs' rms
 * and its largest error ~5e-5, about 10× and 30× direct convolution's (F(2,3): ~1.5×). The bound the tests
 * use is derived in WinogradConvTest.
 */
final class WinogradTiles {
    /** Output tile side m. */
    final int m;
    /** Input tile side α = m + 2. */
    final int alpha;
    /** Bᵀ, α×α. */
    final float[][] bt;
    /** Aᵀ, m×α. */
    final float[][] at;
    /** G, α×3, as written (fractions: its fp32 copy {@link #gf} rounds 1/6, 1/12 and 1/24). */
    final double[][] g;
    /** G rounded to fp32, what the filter transform multiplies with. */
    final float[][] gf;
    /** A = (Aᵀ)ᵀ, α×m, and Gᵀ, 3×α in fp32: the adjoints the weight gradient runs the transforms through. */
    final float[][] a;
    final float[][] gt;

    private WinogradTiles(float[][] bt, double[][] g, float[][] at) {
        this.alpha = bt.length;
        this.m = at.length;
        this.bt = bt;
        this.g = g;
        this.at = at;
        gf = new float[alpha][3];
        gt = new float[3][alpha];
        a = new float[alpha][m];
        for (int i = 0; i < alpha; i++) {
            for (int k = 0; k < 3; k++) {
                gf[i][k] = (float) g[i][k];
                gt[k][i] = (float) g[i][k];
            }
            for (int k = 0; k < m; k++) {
                a[i][k] = at[k][i];
            }
        }
    }

    static final WinogradTiles F2 = new WinogradTiles(
            new float[][] {{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}},
            new double[][] {{1, 0, 0}, {.5, .5, .5}, {.5, -.5, .5}, {0, 0, 1}},
            new float[][] {{1, 1, 1, 0}, {0, 1, -1, -1}});

    static final WinogradTiles F4 = new WinogradTiles(
            new float[][] {{4, 0, -5, 0, 1, 0}, {0, -4, -4, 1, 1, 0}, {0, 4, -4, -1, 1, 0}, {0, -2, -1, 2, 1, 0},
                {0, 2, -1, -2, 1, 0}, {0, 4, 0, -5, 0, 1}},
            new double[][] {{1 / 4.0, 0, 0}, {-1 / 6.0, -1 / 6.0, -1 / 6.0}, {-1 / 6.0, 1 / 6.0, -1 / 6.0},
                {1 / 24.0, 1 / 12.0, 1 / 6.0}, {1 / 24.0, -1 / 12.0, 1 / 6.0}, {0, 0, 1}},
            new float[][] {{1, 1, 1, 1, 1, 0}, {0, 1, -1, 2, -2, 0}, {0, 1, 1, 4, 4, 0}, {0, 1, -1, 8, -8, 1}});
}
