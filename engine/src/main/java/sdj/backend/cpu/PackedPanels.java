package sdj.backend.cpu;

/**
 * A k×n matrix B laid out as {@link Gemm} packs it for its register kernels, so that whoever computes B (Winograd's
 * input transform) writes it there and the product reads it in place instead of packing a row-major copy: for each
 * block of up to {@link Gemm#KC} rows starting at row pc (kc rows), at pc·n', the column panels of {@link Gemm#NR}
 * one after another, each kc × NR with k outermost; n' is n rounded up to whole panels. Columns past n are never
 * read into C, so they may hold anything.
 */
record PackedPanels(int k, int n) {
    /** n rounded up to whole panels. */
    int paddedColumns() {
        return Gemm.roundUp(n, Gemm.NR);
    }

    /** Floats the layout spans. */
    int size() {
        return k * paddedColumns();
    }

    /** Where B(p, j) lives, relative to the layout's start. */
    int index(int p, int j) {
        int pc = p / Gemm.KC * Gemm.KC;
        int kc = Math.min(Gemm.KC, k - pc);
        return pc * paddedColumns() + j / Gemm.NR * Gemm.NR * kc + (p - pc) * Gemm.NR + j % Gemm.NR;
    }

    /** B(p, j0 + i) = src[srcOff + i] for i < len, into the layout starting at packed[off]: one copy per panel. */
    void putRow(float[] src, int srcOff, float[] packed, int off, int p, int j0, int len) {
        for (int j = j0, end = j0 + len; j < end;) {
            int run = Math.min(end, (j / Gemm.NR + 1) * Gemm.NR) - j;
            System.arraycopy(src, srcOff + j - j0, packed, off + index(p, j), run);
            j += run;
        }
    }

    /**
     * Packs the k×n matrix b (any operand Gemm takes) into the layout at packed[off], columns past n zero: a B used
     * by many products (attention's K and V of one head, for every block of queries) packed once, by Gemm's own
     * packing, one block of KC rows at a time.
     */
    void pack(Gemm.Operand b, float[] packed, int off) {
        for (int pc = 0; pc < k; pc += Gemm.KC) {
            GemmPacking.packB(b, pc, Math.min(Gemm.KC, k - pc), 0, 0, n, packed, off + pc * paddedColumns());
        }
    }

    /** C[m × n] = A·B with B the layout at packed[off], on the calling thread (callers run products in parallel). */
    void multiply(int m, Gemm.Operand a, float[] packed, int off, float[] c, int cOff, int ldc) {
        if (k == 0) {
            Gemm.start(m, n, c, cOff, ldc, Gemm.ZEROS);
        }
        for (int pc = 0; pc < k; pc += Gemm.KC) {
            Gemm.macro(0, m, 0, n, 0, pc, Math.min(Gemm.KC, k - pc), a, packed, off + pc * paddedColumns(), c, cOff, ldc,
                    pc == 0 ? Gemm.ZEROS : null);
        }
    }
}
