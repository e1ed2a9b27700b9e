package sdj.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Single-precision GEMM, C[M×N] (+)= A[M×K]·B[K×N], on the CPU with the Vector API.
 *
 * <p>Classic Goto/BLIS structure: B is packed into KC×NR column panels and A into MR×KC row panels so
 * the micro-kernel streams both from L1/L2 with unit stride; the micro-kernel keeps an MR×NR tile of
 * C in registers (6 rows × 2 vectors = 12 accumulators, leaving registers for the B loads and the A
 * broadcast). Operands are addressed by (offset, row stride, column stride), so transposed views
 * cost nothing: the packing absorbs the layout. Work is split over cores along M (or N for short,
 * wide products such as the 77-token context projections).
 */
public final class Gemm {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    static final int MR = 6;
    static final int NR = 2 * L;
    private static final int KC = 256;
    private static final int MC = 120; // multiple of MR; A block MC×KC floats ≈ 120 KiB stays in L2
    private static final int NC = 2048; // B block KC×NC floats: 2 MiB, L2/L3 resident

    private Gemm() {
    }

    /** A strided matrix operand: element (r, c) lives at data[off + r*rs + c*cs]. */
    public record Operand(float[] data, int off, int rs, int cs) {
        public static Operand rowMajor(float[] data, int off, int cols) {
            return new Operand(data, off, cols, 1);
        }

        /** The same storage read as its transpose. */
        public Operand t() {
            return new Operand(data, off, cs, rs);
        }
    }

    /**
     * C = A·B (accumulate=false) or C += A·B (accumulate=true); C is row-major with leading
     * dimension ldc starting at cOff.
     */
    public static void sgemm(int m, int n, int k, Operand a, Operand b, float[] c, int cOff, int ldc, boolean accumulate) {
        if (m == 0 || n == 0) {
            return;
        }
        if (!accumulate) {
            for (int i = 0; i < m; i++) {
                java.util.Arrays.fill(c, cOff + i * ldc, cOff + i * ldc + n, 0f);
            }
        }
        if (k == 0) {
            return;
        }
        int threads = Parallel.threads();
        long flops = 2L * m * n * k;
        if (threads == 1 || flops < 2_000_000) {
            serial(0, m, 0, n, k, a, b, c, cOff, ldc);
            return;
        }
        boolean splitM = m >= n || m >= MR * threads * 8;
        int units = splitM ? (m + MR - 1) / MR : (n + NR - 1) / NR;
        Parallel.range(units, (flops / Math.max(1, units)), (lo, hi) -> {
            if (splitM) {
                serial(lo * MR, Math.min(m, hi * MR), 0, n, k, a, b, c, cOff, ldc);
            } else {
                serial(0, m, lo * NR, Math.min(n, hi * NR), k, a, b, c, cOff, ldc);
            }
        });
    }

    /** Batched product over independent matrices, parallel across the batch. */
    public interface BatchBody {
        void run(int batchIndex);
    }

    public static void batched(int batch, long flopsEach, BatchBody body) {
        if (batch == 1) {
            body.run(0);
            return;
        }
        Parallel.range(batch, flopsEach, (lo, hi) -> {
            for (int i = lo; i < hi; i++) {
                body.run(i);
            }
        });
    }

    private static void serial(int m0, int m1, int n0, int n1, int k, Operand a, Operand b, float[] c, int cOff, int ldc) {
        float[] packA = new float[MC * KC];
        float[] packB = new float[KC * Math.min(NC, roundUp(n1 - n0, NR))];
        for (int jc = n0; jc < n1; jc += NC) {
            int nc = Math.min(NC, n1 - jc);
            for (int pc = 0; pc < k; pc += KC) {
                int kc = Math.min(KC, k - pc);
                packB(b, pc, kc, jc, nc, packB);
                for (int ic = m0; ic < m1; ic += MC) {
                    int mc = Math.min(MC, m1 - ic);
                    packA(a, ic, mc, pc, kc, packA);
                    for (int jr = 0; jr < nc; jr += NR) {
                        int nr = Math.min(NR, nc - jr);
                        for (int ir = 0; ir < mc; ir += MR) {
                            int mr = Math.min(MR, mc - ir);
                            int cIndex = cOff + (ic + ir) * ldc + jc + jr;
                            if (mr == MR && nr == NR) {
                                kernel(kc, packA, ir * kc, packB, jr * kc, c, cIndex, ldc);
                            } else {
                                edgeKernel(kc, packA, ir * kc, packB, jr * kc, c, cIndex, ldc, mr, nr);
                            }
                        }
                    }
                }
            }
        }
    }

    private static int roundUp(int v, int m) {
        return (v + m - 1) / m * m;
    }

    /** Packs A[ic:ic+mc, pc:pc+kc] as MR-row panels, k-major inside a panel, zero-padded rows. */
    private static void packA(Operand a, int ic, int mc, int pc, int kc, float[] dst) {
        float[] src = a.data;
        for (int ir = 0; ir < mc; ir += MR) {
            int base = ir * kc;
            int rows = Math.min(MR, mc - ir);
            for (int r = 0; r < MR; r++) {
                if (r >= rows) {
                    for (int p = 0; p < kc; p++) {
                        dst[base + p * MR + r] = 0f;
                    }
                    continue;
                }
                int s = a.off + (ic + ir + r) * a.rs + pc * a.cs;
                for (int p = 0; p < kc; p++, s += a.cs) {
                    dst[base + p * MR + r] = src[s];
                }
            }
        }
    }

    /** Packs B[pc:pc+kc, jc:jc+nc] as NR-column panels, k-major inside a panel, zero-padded columns. */
    private static void packB(Operand b, int pc, int kc, int jc, int nc, float[] dst) {
        float[] src = b.data;
        for (int jr = 0; jr < nc; jr += NR) {
            int base = jr * kc;
            int cols = Math.min(NR, nc - jr);
            if (b.rs == 1 && b.cs != 1) {
                // B is a transposed row-major matrix (e.g. a Linear weight read as Wᵀ): walk each column
                // along k, which is contiguous in memory, instead of striding across rows.
                for (int j = 0; j < NR; j++) {
                    if (j >= cols) {
                        for (int p = 0; p < kc; p++) {
                            dst[base + p * NR + j] = 0f;
                        }
                        continue;
                    }
                    int s = b.off + pc + (jc + jr + j) * b.cs;
                    for (int p = 0; p < kc; p++) {
                        dst[base + p * NR + j] = src[s + p];
                    }
                }
                continue;
            }
            for (int p = 0; p < kc; p++) {
                int d = base + p * NR;
                int s = b.off + (pc + p) * b.rs + (jc + jr) * b.cs;
                if (b.cs == 1 && cols == NR) {
                    System.arraycopy(src, s, dst, d, NR);
                } else {
                    for (int j = 0; j < cols; j++) {
                        dst[d + j] = src[s + j * b.cs];
                    }
                    for (int j = cols; j < NR; j++) {
                        dst[d + j] = 0f;
                    }
                }
            }
        }
    }

    /** The 6×(2·lanes) register tile: C tile += Apanel·Bpanel over kc. */
    private static void kernel(int kc, float[] pa, int aBase, float[] pb, int bBase, float[] c, int cIndex, int ldc) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
        FloatVector c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
        int ai = aBase;
        int bi = bBase;
        for (int p = 0; p < kc; p++, ai += MR, bi += NR) {
            FloatVector b0 = FloatVector.fromArray(S, pb, bi);
            FloatVector b1 = FloatVector.fromArray(S, pb, bi + L);
            FloatVector a;
            a = FloatVector.broadcast(S, pa[ai]);
            c00 = a.fma(b0, c00);
            c01 = a.fma(b1, c01);
            a = FloatVector.broadcast(S, pa[ai + 1]);
            c10 = a.fma(b0, c10);
            c11 = a.fma(b1, c11);
            a = FloatVector.broadcast(S, pa[ai + 2]);
            c20 = a.fma(b0, c20);
            c21 = a.fma(b1, c21);
            a = FloatVector.broadcast(S, pa[ai + 3]);
            c30 = a.fma(b0, c30);
            c31 = a.fma(b1, c31);
            a = FloatVector.broadcast(S, pa[ai + 4]);
            c40 = a.fma(b0, c40);
            c41 = a.fma(b1, c41);
            a = FloatVector.broadcast(S, pa[ai + 5]);
            c50 = a.fma(b0, c50);
            c51 = a.fma(b1, c51);
        }
        addTo(c, cIndex, c00, c01);
        addTo(c, cIndex + ldc, c10, c11);
        addTo(c, cIndex + 2 * ldc, c20, c21);
        addTo(c, cIndex + 3 * ldc, c30, c31);
        addTo(c, cIndex + 4 * ldc, c40, c41);
        addTo(c, cIndex + 5 * ldc, c50, c51);
    }

    private static void addTo(float[] c, int i, FloatVector v0, FloatVector v1) {
        FloatVector.fromArray(S, c, i).add(v0).intoArray(c, i);
        FloatVector.fromArray(S, c, i + L).add(v1).intoArray(c, i + L);
    }

    /**
     * Partial tiles at the matrix edges. The packed panels are zero-padded to full MR×NR, so the
     * full register kernel runs into a scratch tile and only the valid mr×nr corner is added to C.
     */
    private static void edgeKernel(int kc, float[] pa, int aBase, float[] pb, int bBase, float[] c, int cIndex, int ldc,
            int mr, int nr) {
        float[] tile = EDGE_TILE.get();
        java.util.Arrays.fill(tile, 0f);
        kernel(kc, pa, aBase, pb, bBase, tile, 0, NR);
        for (int r = 0; r < mr; r++) {
            for (int j = 0; j < nr; j++) {
                c[cIndex + r * ldc + j] += tile[r * NR + j];
            }
        }
    }

    private static final ThreadLocal<float[]> EDGE_TILE = ThreadLocal.withInitial(() -> new float[MR * NR]);
}
