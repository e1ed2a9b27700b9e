package sdj.backend.cpu;

import java.lang.foreign.MemorySegment;

/**
 * {@link Gemm}'s packing: A into MR-row panels and B into NR-column panels, k-major inside a panel, from heap
 * arrays or from segments (weights used in place from a mapped checkpoint), for any strides.
 */
final class GemmPacking {
    /** One run of up to KC elements along k, copied in bulk out of a segment operand before packing. */
    private static final ThreadLocal<float[]> SEGMENT_RUN = ThreadLocal.withInitial(() -> new float[Gemm.KC]);

    private GemmPacking() {
    }

    /**
     * Packs A[ic:ic+mc, pc:pc+kc] as MR-row panels, k-major inside a panel, zero-padded rows. From a segment, a row
     * contiguous along k (a conv weight) is copied in bulk into a small buffer first: element-wise segment reads
     * cost ~25% of a UNet forward's time (each weight is packed once per image and column block).
     */
    static void packA(Gemm.Operand a, int ic, int mc, int pc, int kc, float[] dst) {
        float[] src = a.data();
        for (int ir = 0; ir < mc; ir += Gemm.MR) {
            int rows = Math.min(Gemm.MR, mc - ir);
            for (int r = 0; r < Gemm.MR; r++) {
                int at = ir * kc + r; // element p of this row goes to dst[at + p·MR]
                if (r >= rows) {
                    for (int p = 0; p < kc; p++) {
                        dst[at + p * Gemm.MR] = 0f;
                    }
                    continue;
                }
                int s = a.off() + (ic + ir + r) * a.rs() + pc * a.cs();
                if (src != null) {
                    for (int p = 0; p < kc; p++, s += a.cs()) {
                        dst[at + p * Gemm.MR] = src[s];
                    }
                } else if (a.cs() == 1) {
                    float[] run = SEGMENT_RUN.get();
                    MemorySegment.copy(a.segment(), Gemm.SEGMENT_FLOAT, 4L * s, run, 0, kc);
                    for (int p = 0; p < kc; p++) {
                        dst[at + p * Gemm.MR] = run[p];
                    }
                } else {
                    for (int p = 0; p < kc; p++, s += a.cs()) {
                        dst[at + p * Gemm.MR] = a.at(s);
                    }
                }
            }
        }
    }

    /**
     * Packs B[pc:pc+kc, jc+j0:jc+j1] as NR-column panels (j0 a multiple of NR), k-major inside a
     * panel, zero-padded columns; panel jr lands at dst[dstOff + jr*kc], so threads can pack disjoint panels.
     */
    static void packB(Gemm.Operand b, int pc, int kc, int jc, int j0, int nc, float[] dst, int dstOff) {
        if (b.data() == null) {
            packBSegment(b, pc, kc, jc, j0, nc, dst, dstOff);
            return;
        }
        float[] src = b.data();
        for (int jr = j0; jr < nc; jr += Gemm.NR) {
            int base = dstOff + jr * kc;
            int cols = Math.min(Gemm.NR, nc - jr);
            if (b.rs() == 1 && b.cs() != 1) {
                // B is a transposed row-major matrix (e.g. a Linear weight read as Wᵀ): walk each column
                // along k, which is contiguous in memory, instead of striding across rows.
                for (int j = 0; j < Gemm.NR; j++) {
                    if (j >= cols) {
                        for (int p = 0; p < kc; p++) {
                            dst[base + p * Gemm.NR + j] = 0f;
                        }
                        continue;
                    }
                    int s = b.off() + pc + (jc + jr + j) * b.cs();
                    for (int p = 0; p < kc; p++) {
                        dst[base + p * Gemm.NR + j] = src[s + p];
                    }
                }
                continue;
            }
            for (int p = 0; p < kc; p++) {
                int d = base + p * Gemm.NR;
                int s = b.off() + (pc + p) * b.rs() + (jc + jr) * b.cs();
                if (b.cs() == 1) {
                    // contiguous rows; a narrow last panel (e.g. attention's P·V with 40 columns) is zero-padded
                    System.arraycopy(src, s, dst, d, cols);
                    java.util.Arrays.fill(dst, d + cols, d + Gemm.NR, 0f);
                } else {
                    for (int j = 0; j < cols; j++) {
                        dst[d + j] = src[s + j * b.cs()];
                    }
                    for (int j = cols; j < Gemm.NR; j++) {
                        dst[d + j] = 0f;
                    }
                }
            }
        }
    }

    /** {@link #packB} reading B from its segment: the same panels (runs along k or along a row copied in bulk). */
    private static void packBSegment(Gemm.Operand b, int pc, int kc, int jc, int j0, int nc, float[] dst,
            int dstOff) {
        MemorySegment src = b.segment();
        for (int jr = j0; jr < nc; jr += Gemm.NR) {
            int base = dstOff + jr * kc;
            int cols = Math.min(Gemm.NR, nc - jr);
            for (int j = cols; j < Gemm.NR; j++) {
                for (int p = 0; p < kc; p++) {
                    dst[base + p * Gemm.NR + j] = 0f;
                }
            }
            if (b.rs() == 1 && b.cs() != 1) { // a transposed row-major weight (Wᵀ of a Linear): k is contiguous
                float[] run = SEGMENT_RUN.get();
                for (int j = 0; j < cols; j++) {
                    MemorySegment.copy(src, Gemm.SEGMENT_FLOAT, 4L * (b.off() + pc + (jc + jr + j) * b.cs()), run, 0, kc);
                    for (int p = 0; p < kc; p++) {
                        dst[base + p * Gemm.NR + j] = run[p];
                    }
                }
                continue;
            }
            for (int p = 0; p < kc; p++) {
                int d = base + p * Gemm.NR;
                int s = b.off() + (pc + p) * b.rs() + (jc + jr) * b.cs();
                if (b.cs() == 1) {
                    MemorySegment.copy(src, Gemm.SEGMENT_FLOAT, 4L * s, dst, d, cols);
                } else {
                    for (int j = 0; j < cols; j++) {
                        dst[d + j] = src.getAtIndex(Gemm.SEGMENT_FLOAT, s + j * b.cs());
                    }
                }
            }
        }
    }
}
