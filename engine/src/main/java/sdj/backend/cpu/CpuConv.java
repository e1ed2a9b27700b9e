package sdj.backend.cpu;

import sdj.tensor.ActivationArena;
import sdj.tensor.Backend;
import sdj.tensor.Shape;
import sdj.tensor.Tensor;

/**
 * 2-D convolution (groups = 1) as im2col + GEMM, per image: out[O, P] = W[O, C·kh·kw] · cols[C·kh·kw, P]
 * where P = Hout·Wout. A 1×1 stride-1 convolution skips im2col (the image already is the column
 * matrix). Padding may be asymmetric (the VAE's downsample pads only right and bottom). A 3×3 stride-1
 * pad-1 conv (and its data gradient) goes to {@link CpuWinograd} where {@link ConvAlgorithm} says so.
 */
final class CpuConv {
    private CpuConv() {
    }

    /** Geometry of one convolution: kernel, stride and the four paddings. */
    record Geometry(int c, int h, int w, int kh, int kw, int stride, int padTop, int padLeft, int ho, int wo) {
        static Geometry of(int[] x, int[] wt, int stride, int padTop, int padBottom, int padLeft, int padRight) {
            int ho = (x[2] + padTop + padBottom - wt[2]) / stride + 1;
            int wo = (x[3] + padLeft + padRight - wt[3]) / stride + 1;
            if (ho <= 0 || wo <= 0) {
                throw new IllegalArgumentException("conv2d kernel " + Shape.str(wt) + " does not fit input " + Shape.str(x));
            }
            return new Geometry(x[1], x[2], x[3], wt[2], wt[3], stride, padTop, padLeft, ho, wo);
        }

        int rows() {
            return c * kh * kw;
        }

        int positions() {
            return ho * wo;
        }

        /** 1×1, stride 1 and no padding on any side (ho == h, wo == w rules out bottom/right padding). */
        boolean isPointwise() {
            return kh == 1 && kw == 1 && stride == 1 && padTop == 0 && padLeft == 0 && ho == h && wo == w;
        }
    }

    static Backend.Result conv2d(Tensor x, Tensor weight, Tensor bias, int stride, int[] pad, boolean keep) {
        int[] xs = x.shape();
        int[] ws = weight.shape();
        Geometry g = Geometry.of(xs, ws, stride, pad[0], pad[1], pad[2], pad[3]);
        int n = xs[0];
        int o = ws[0];
        float[] xv = x.floats();
        Gemm.Operand w = HostWeights.rowMajor(weight, g.rows()); // read in place, also from a mapped checkpoint
        float[] bv = bias == null ? null : HostWeights.vector(bias);
        int p = g.positions();
        if (ConvAlgorithm.fewOutputs(g, o)) {
            float[] y = ActivationArena.floats(n * o * p);
            FewOutputConv.conv3x3(xv, n, g.c, g.h, g.w, HostWeights.vector(weight), o, bv, y);
            return result(Tensor.of(y, n, o, g.ho, g.wo), x, weight, bias, g, xv, w, keep);
        }
        WinogradTiles tiles = ConvAlgorithm.winogradTiles(g, n, g.c, o);
        if (tiles != null) {
            float[] y = CpuWinograd.conv3x3(tiles, xv, n, g.c, g.h, g.w, weight, o, false, bv);
            return result(Tensor.of(y, n, o, g.ho, g.wo), x, weight, bias, g, xv, w, keep);
        }
        float[] out = ActivationArena.floats(n * o * p);
        int inImage = g.c * g.h * g.w;
        // Wide enough images pack their patches straight into the GEMM's panels; small ones (a few
        // panels, where the GEMM may transpose the product) go through an im2col matrix.
        boolean patches = !g.isPointwise() && p >= 2 * Gemm.PANEL;
        if (batchedAsOneProduct(g, n)) {
            batchAsOneProduct(xv, n, g, w, o, bv, out);
            return result(Tensor.of(out, n, o, g.ho, g.wo), x, weight, bias, g, xv, w, keep);
        }
        float[] cols = g.isPointwise() || patches ? null : Scratch.take(g.rows() * p);
        for (int b = 0; b < n; b++) {
            if (patches) {
                Gemm.sgemm(o, p, g.rows(), w, new ImagePatches(xv, b * inImage, g), out, b * o * p, p, false);
            } else if (cols == null) {
                Gemm.sgemm(o, p, g.rows(), w, Gemm.Operand.rowMajor(xv, b * inImage, p), out, b * o * p, p, false);
            } else {
                im2col(xv, b * inImage, g, cols);
                Gemm.sgemm(o, p, g.rows(), w, Gemm.Operand.rowMajor(cols, 0, p), out, b * o * p, p, false);
            }
            if (bv != null) {
                int image = b;
                Parallel.range(o, p, (o0, o1) -> { // a pass over the whole output: both cores' bandwidth
                    for (int oc = o0; oc < o1; oc++) {
                        float bb = bv[oc];
                        int base = (image * o + oc) * p;
                        for (int i = 0; i < p; i++) {
                            out[base + i] += bb;
                        }
                    }
                });
            }
        }
        Scratch.give(cols);
        return result(Tensor.of(out, n, o, g.ho, g.wo), x, weight, bias, g, xv, w, keep);
    }

    /**
     * A batch of small images (8×8 latents: a few dozen positions each) as one product over all of them,
     * W[O, C·kh·kw] · cols[C·kh·kw, N·P]: the weight, megabytes that each image's product would stream
     * from memory again, is read once. Each output is the same sum in the same order as per image.
     */
    private static void batchAsOneProduct(float[] xv, int n, Geometry g, Gemm.Operand w, int o, float[] bv,
            float[] out) {
        int p = g.positions();
        int wide = n * p;
        int inImage = g.c * g.h * g.w;
        float[] cols = Scratch.take(g.rows() * wide);
        for (int b = 0; b < n; b++) {
            im2col(xv, b * inImage, g, cols, b * p, wide);
        }
        float[] product = Scratch.take(o * wide);
        Gemm.sgemm(o, wide, g.rows(), w, Gemm.Operand.rowMajor(cols, 0, wide), product, 0, wide, false);
        for (int b = 0; b < n; b++) {
            for (int oc = 0; oc < o; oc++) {
                int from = oc * wide + b * p;
                int to = (b * o + oc) * p;
                float bb = bv == null ? 0f : bv[oc];
                for (int i = 0; i < p; i++) {
                    out[to + i] = product[from + i] + bb;
                }
            }
        }
        Scratch.give(product);
        Scratch.give(cols);
    }

    private static Backend.Result result(Tensor y, Tensor x, Tensor weight, Tensor bias, Geometry g, float[] xv,
            Gemm.Operand w, boolean keep) {
        if (!keep) {
            return Backend.Result.of(y);
        }
        return new Backend.Result(y, gy -> backward(gy, x, weight, bias, g, xv, w));
    }

    private static Tensor[] backward(Tensor gy, Tensor x, Tensor weight, Tensor bias, Geometry g, float[] xv,
            Gemm.Operand w) {
        int n = x.size(0);
        int o = weight.size(0);
        int p = g.positions();
        int rows = g.rows();
        int inImage = g.c * g.h * g.w;
        float[] gv = gy.floats();
        float[] gx = null;
        // The data gradient of a 3×3 stride-1 pad-1 conv is itself one (over gy, with the weight transposed and
        // rotated), so it can take the Winograd path as a whole batch; otherwise it is computed per image below.
        WinogradTiles tiles = x.requiresGrad() ? ConvAlgorithm.winogradTiles(g, n, o, g.c, true) : null;
        if (tiles != null) {
            gx = CpuWinograd.conv3x3(tiles, gv, n, o, g.h, g.w, weight, g.c, true, null);
        }
        boolean colGrad = x.requiresGrad() && tiles == null;
        if (colGrad) {
            gx = new float[xv.length];
        }
        // The weight gradient likewise runs through the adjoint of the Winograd forward where the forward would.
        WinogradTiles weightTiles = weight.requiresGrad() ? ConvAlgorithm.winogradTiles(g, n, g.c, o, true) : null;
        float[] gw = weightTiles == null ? null : WinogradWeightGrad.weightGrad(weightTiles, xv, gv, n, g.c, g.h, g.w, o, 0);
        boolean colWeightGrad = weight.requiresGrad() && weightTiles == null;
        if (colWeightGrad) {
            gw = new float[Math.toIntExact(weight.numel())];
        }
        boolean batched = (colWeightGrad || colGrad) && batchedAsOneProduct(g, n);
        if (batched) {
            batchBackwardAsOneProduct(xv, gv, n, g, w, o, colWeightGrad ? gw : null, colGrad ? gx : null);
        }
        float[] cols = batched || g.isPointwise() || (!colWeightGrad && !colGrad) ? null : Scratch.take(rows * p);
        for (int b = 0; b < n && !batched; b++) {
            Gemm.Operand gOut = Gemm.Operand.rowMajor(gv, b * o * p, p);
            if (colWeightGrad) {
                Gemm.Operand colT;
                if (g.isPointwise()) {
                    colT = Gemm.Operand.rowMajor(xv, b * inImage, p).t();
                } else {
                    im2col(xv, b * inImage, g, cols);
                    colT = Gemm.Operand.rowMajor(cols, 0, p).t();
                }
                // dW[O, rows] += gOut[O, P] · colsᵀ[P, rows]
                Gemm.sgemm(o, rows, p, gOut, colT, gw, 0, rows, true);
            }
            if (colGrad) {
                Gemm.Operand wT = w.t();
                if (g.isPointwise()) {
                    Gemm.sgemm(rows, p, o, wT, gOut, gx, b * inImage, p, false);
                } else {
                    // dCols[rows, P] = Wᵀ[rows, O] · gOut[O, P], then scattered back to the image
                    Gemm.sgemm(rows, p, o, wT, gOut, cols, 0, p, false);
                    col2im(cols, g, gx, b * inImage);
                }
            }
        }
        Scratch.give(cols);
        Tensor gb = null;
        if (bias != null && bias.requiresGrad()) {
            float[] sb = new float[o];
            for (int b = 0; b < n; b++) {
                for (int oc = 0; oc < o; oc++) {
                    double s = 0;
                    int base = (b * o + oc) * p;
                    for (int i = 0; i < p; i++) {
                        s += gv[base + i];
                    }
                    sb[oc] += (float) s;
                }
            }
            gb = Tensor.of(sb, o);
        }
        return new Tensor[] {
            gx == null ? null : Tensor.of(gx, x.shape()),
            gw == null ? null : Tensor.of(gw, weight.shape()),
            gb};
    }

    /** Whether a batch of these images runs as one product ({@link #batchAsOneProduct}), forward and backward. */
    private static boolean batchedAsOneProduct(Geometry g, int n) {
        return !g.isPointwise() && g.positions() < 2 * Gemm.PANEL && n > 1;
    }

    /**
     * The backward of {@link #batchAsOneProduct}: with G[O, N·P] the images' output gradients side by side and
     * cols[C·kh·kw, N·P] their patches, dW = G·colsᵀ (one product over all positions, so the weight gradient is
     * written once, not once per image) and dcols = Wᵀ·G (the weight read once), scattered back per image.
     */
    private static void batchBackwardAsOneProduct(float[] xv, float[] gv, int n, Geometry g, Gemm.Operand w, int o,
            float[] gw, float[] gx) {
        int p = g.positions();
        int wide = n * p;
        int rows = g.rows();
        int inImage = g.c * g.h * g.w;
        float[] gWide = Scratch.take(o * wide);
        for (int b = 0; b < n; b++) {
            for (int oc = 0; oc < o; oc++) {
                System.arraycopy(gv, (b * o + oc) * p, gWide, oc * wide + b * p, p);
            }
        }
        Gemm.Operand gOut = Gemm.Operand.rowMajor(gWide, 0, wide);
        float[] cols = Scratch.take(rows * wide);
        if (gw != null) {
            for (int b = 0; b < n; b++) {
                im2col(xv, b * inImage, g, cols, b * p, wide);
            }
            Gemm.sgemm(o, rows, wide, gOut, Gemm.Operand.rowMajor(cols, 0, wide).t(), gw, 0, rows, false);
        }
        if (gx != null) {
            Gemm.sgemm(rows, wide, o, w.t(), gOut, cols, 0, wide, false);
            for (int b = 0; b < n; b++) {
                col2im(cols, b * p, wide, g, gx, b * inImage);
            }
        }
        Scratch.give(cols);
        Scratch.give(gWide);
    }

    /**
     * The im2col matrix of one image as a GEMM panel source: row (c·kh + i)·kw + j, column oy·wo + ox
     * holds x[c][oy·s + i − padTop][ox·s + j − padLeft] (0 outside), written straight into the packed
     * panels, so the matrix itself (C·kh·kw × Hout·Wout floats, 47 MB for a 3×3 conv of 320 channels at
     * 64×64) is never stored and read back.
     */
    record ImagePatches(float[] x, int xOff, Geometry g) implements Gemm.PanelSource {
        @Override
        public void pack(int pc, int kc, int jc, int j0, int j1, float[] dst) {
            int nr = Gemm.PANEL;
            for (int jr = j0; jr < j1; jr += nr) {
                int cols = Math.min(nr, j1 - jr);
                for (int q = 0; q < kc; q++) {
                    int row = pc + q;
                    int j = row % g.kw;
                    int i = row / g.kw % g.kh;
                    int c = row / (g.kw * g.kh);
                    int d = jr * kc + q * nr;
                    // the panel's pixels, one output row at a time
                    for (int t = 0, pixel = jc + jr; t < cols; ) {
                        int oy = pixel / g.wo;
                        int ox = pixel % g.wo;
                        int run = Math.min(cols - t, g.wo - ox);
                        copyRow(c, oy * g.stride + i - g.padTop, ox, j, run, dst, d + t);
                        t += run;
                        pixel += run;
                    }
                    java.util.Arrays.fill(dst, d + cols, d + nr, 0f);
                }
            }
        }

        /** dst[at, at+run) = input row iy of channel c at columns (ox + t)·s + j − padLeft (0 outside). */
        void copyRow(int c, int iy, int ox, int j, int run, float[] dst, int at) {
            if (iy < 0 || iy >= g.h) {
                java.util.Arrays.fill(dst, at, at + run, 0f);
                return;
            }
            int src = xOff + (c * g.h + iy) * g.w;
            int ix0 = ox * g.stride + j - g.padLeft;
            if (g.stride == 1) {
                int lo = Math.max(0, -ix0); // leading columns left of the image
                int hi = Math.min(run, g.w - ix0); // first column right of it
                if (hi <= lo) {
                    java.util.Arrays.fill(dst, at, at + run, 0f);
                    return;
                }
                java.util.Arrays.fill(dst, at, at + lo, 0f);
                System.arraycopy(x, src + ix0 + lo, dst, at + lo, hi - lo);
                java.util.Arrays.fill(dst, at + hi, at + run, 0f);
                return;
            }
            for (int t = 0; t < run; t++) {
                int ix = ix0 + t * g.stride;
                dst[at + t] = ix >= 0 && ix < g.w ? x[src + ix] : 0f;
            }
        }
    }

    /** cols[(c·kh + i)·kw + j][oy·wo + ox] = x[c][oy·s + i − padTop][ox·s + j − padLeft] (0 outside). */
    static void im2col(float[] x, int xOff, Geometry g, float[] cols) {
        im2col(x, xOff, g, cols, 0, g.positions());
    }

    /** As above into columns [colOff, colOff + P) of a matrix with {@code ld} columns. */
    static void im2col(float[] x, int xOff, Geometry g, float[] cols, int colOff, int ld) {
        int p = g.positions();
        ImagePatches patches = new ImagePatches(x, xOff, g);
        Parallel.range(g.c, (long) g.kh * g.kw * p, (c0, c1) -> {
            for (int c = c0; c < c1; c++) {
                for (int i = 0; i < g.kh; i++) {
                    for (int j = 0; j < g.kw; j++) {
                        int row = ((c * g.kh + i) * g.kw + j) * ld + colOff;
                        for (int oy = 0; oy < g.ho; oy++) {
                            patches.copyRow(c, oy * g.stride + i - g.padTop, 0, j, g.wo, cols, row + oy * g.wo);
                        }
                    }
                }
            }
        });
    }

    /** The adjoint of im2col: adds each column entry back into the image position it was read from. */
    static void col2im(float[] cols, Geometry g, float[] x, int xOff) {
        col2im(cols, 0, g.positions(), g, x, xOff);
    }

    /** As above from columns [colOff, colOff + P) of a matrix with {@code ld} columns. */
    static void col2im(float[] cols, int colOff, int ld, Geometry g, float[] x, int xOff) {
        int p = g.positions();
        Parallel.range(g.c, (long) g.kh * g.kw * p, (c0, c1) -> {
            for (int c = c0; c < c1; c++) {
                for (int i = 0; i < g.kh; i++) {
                    for (int j = 0; j < g.kw; j++) {
                        int row = ((c * g.kh + i) * g.kw + j) * ld + colOff;
                        for (int oy = 0; oy < g.ho; oy++) {
                            int iy = oy * g.stride + i - g.padTop;
                            if (iy < 0 || iy >= g.h) {
                                continue;
                            }
                            int src = row + oy * g.wo;
                            int dst = xOff + (c * g.h + iy) * g.w;
                            for (int ox = 0; ox < g.wo; ox++) {
                                int ix = ox * g.stride + j - g.padLeft;
                                if (ix >= 0 && ix < g.w) {
                                    x[dst + ix] += cols[src + ox];
                                }
                            }
                        }
                    }
                }
            }
        });
    }
}
