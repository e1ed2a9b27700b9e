package sdj.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Single-precision GEMM, C[M×N] (+)= A[M×K]·B[K×N], on the CPU with the Vector API.
 *
 * <p>Goto/BLIS structure: for each KC×NC block of B, B is packed once into NR-column panels (the
 * threads split the packing), then the threads split the rows of A; each packs its own MC×KC block of
 * A into MR-row panels and runs the micro-kernel, which keeps an MR×NR tile of C in registers
 * (4 rows × 3 vectors = 12 accumulators). Larger tiles (6×2, 8×2, 4×4 vectors) measured 3–10× slower:
 * C2 stops inlining the Vector API calls in the bigger loop body and the vectors get boxed. Operands are addressed by (offset, row stride, column stride), so transposed views
 * cost nothing: the packing absorbs the layout. Short, wide products (the 77-token context
 * projections) split the columns instead. An operand may also live in a {@link MemorySegment} (a weight
 * used in place from a memory-mapped checkpoint): only the packing reads it, so the micro-kernels and
 * the results are the same as for a heap copy.
 */
public final class Gemm {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    static final int MR = 4;
    static final int NR = 3 * L;
    // Zen 5 (48 KiB L1d, 1 MiB L2, 32 MiB L3): the KC×NR B micro-panel (48 KiB) streams from L1/L2, the
    // MC×KC A block (192 KiB) stays in L2, the KC×NC B block (4 MiB) is shared by both cores from L3.
    // KC 192–512 and MC 96–384 measured within noise of each other.
    static final int KC = 256;
    private static final int MC = 192 / MR * MR;
    private static final int NC = 4096 / NR * NR; // whole register panels
    /** Column panels up to which A's rows are read in place rather than packed (see {@link #directA}). */
    private static final int DIRECT_A_PANELS = 4;
    /** Column panels up to which each thread packs B for itself when the rows are split (see sgemm). */
    private static final int OWN_B_PANELS = 6;

    private Gemm() {
    }

    /** Little-endian fp32 elements of a segment operand (checkpoint files are little-endian). */
    static final ValueLayout.OfFloat SEGMENT_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /**
     * A strided matrix operand: element (r, c) lives at data[off + r*rs + c*cs], or, when data is null,
     * at float index off + r*rs + c*cs of the segment.
     */
    public record Operand(float[] data, MemorySegment segment, int off, int rs, int cs) {
        public Operand(float[] data, int off, int rs, int cs) {
            this(data, null, off, rs, cs);
        }

        public static Operand rowMajor(float[] data, int off, int cols) {
            return new Operand(data, off, cols, 1);
        }

        /** Little-endian fp32 elements read in place from a segment (e.g. a memory-mapped weight). */
        public static Operand inSegment(MemorySegment segment, int off, int rs, int cs) {
            return new Operand(null, segment, off, rs, cs);
        }

        /** The same storage read as its transpose. */
        public Operand t() {
            return new Operand(data, segment, off, cs, rs);
        }

        /** Element at float index i of the storage. */
        float at(int i) {
            return data != null ? data[i] : segment.getAtIndex(SEGMENT_FLOAT, i);
        }
    }

    /**
     * B given by what it packs rather than by memory: writes B[pc:pc+kc, jc+j0 : jc+j1] into dst as
     * {@link #PANEL}-column panels, panel jr (a multiple of PANEL) at dst[jr·kc], k-major inside a panel,
     * columns past j1 zero. Lets a convolution pack its image patches straight from the image (no
     * im2col matrix in memory). Called from several threads for disjoint panels.
     */
    @FunctionalInterface
    public interface PanelSource {
        void pack(int pc, int kc, int jc, int j0, int j1, float[] dst);
    }

    /** The width of B's register panels, for {@link PanelSource}s. */
    public static final int PANEL = NR;

    /**
     * C = A·B (accumulate=false) or C += A·B (accumulate=true); C is row-major with leading
     * dimension ldc starting at cOff.
     */
    public static void sgemm(int m, int n, int k, Operand a, Operand b, float[] c, int cOff, int ldc, boolean accumulate) {
        product(m, n, k, a, b, c, cOff, ldc, accumulate ? null : ZEROS);
    }

    /** C = row + A·B: every row of C starts as {@code row} (n elements; a Linear's bias), with no pass of its own. */
    public static void sgemmAddingRow(int m, int n, int k, Operand a, Operand b, float[] c, int cOff, int ldc,
            float[] row) {
        product(m, n, k, a, b, c, cOff, ldc, java.util.Objects.requireNonNull(row));
    }

    /**
     * What C starts as: null, its own values (C += A·B); {@link #ZEROS}, zeros; any other array, that row in every
     * row. Written into each register tile just before its first k block adds to it, while the tile is in L1: a
     * separate pass would stream all of C through memory once more.
     */
    static final float[] ZEROS = new float[0];

    private static void product(int m, int n, int k, Operand a, Operand b, float[] c, int cOff, int ldc, float[] init) {
        if (m > 0 && n > 0 && k > 0 && narrowN(m, n, k)) {
            start(m, n, c, cOff, ldc, init);
            // Few columns would mostly fill zero padding in the NR-wide register panels (a conv at 4×4 or
            // 8×8, attention's P·V with 40 columns): compute Cᵀ = Bᵀ·Aᵀ, where they become rows, and add
            // it back transposed. Every element sums in the same order, so results are identical.
            float[] ct = Scratch.take(n * m);
            sgemm(n, m, k, b.t(), a.t(), ct, 0, m, false);
            for (int i = 0; i < m; i++) {
                int row = cOff + i * ldc;
                for (int j = 0; j < n; j++) {
                    c[row + j] += ct[j * m + i];
                }
            }
            Scratch.give(ct);
            return;
        }
        product(m, n, k, a, (pc, kc, jc, j0, j1, dst) -> GemmPacking.packB(b, pc, kc, jc, j0, j1, dst, 0), c, cOff, ldc,
                init);
    }

    /** As above with B packed by {@code b}. */
    public static void sgemm(int m, int n, int k, Operand a, PanelSource b, float[] c, int cOff, int ldc,
            boolean accumulate) {
        product(m, n, k, a, b, c, cOff, ldc, accumulate ? null : ZEROS);
    }

    private static void product(int m, int n, int k, Operand a, PanelSource b, float[] c, int cOff, int ldc,
            float[] init) {
        if (m == 0 || n == 0) {
            return;
        }
        if (k == 0) {
            start(m, n, c, cOff, ldc, init);
            return;
        }
        boolean parallel = Parallel.threads() > 1 && 2L * m * n * k >= 2_000_000;
        // Split rows when every thread gets plenty of register tiles: the threads then share the packing of
        // each B block. With fewer rows (8×8 latents, the 77-token context) split the columns whenever they
        // give every thread several panels: each thread packs only its own B panels, with no barrier
        // between packing and multiplying (m = 128, n = 1280: ~190 -> ~235 GFLOP/s on 2 cores).
        int threads = Parallel.threads();
        int rowTiles = (m + MR - 1) / MR;
        int blockColumns = columnBlock(n);
        int columnPanels = (Math.min(n, blockColumns) + NR - 1) / NR;
        boolean splitM = rowTiles >= 32 * threads || (rowTiles >= 4 * threads && columnPanels < 4 * threads);
        int ncMax = roundUp(Math.min(blockColumns, n), NR);
        if (!parallel) {
            blocks(0, m, n, k, blockColumns, a, b, packBuffer(ncMax), c, cOff, ldc, init);
            return;
        }
        if (splitM && ncMax / NR <= OWN_B_PANELS) {
            // Few columns and a long k (a conv at 8×8: n = 128, k = 11520): a shared B block would cost two
            // barriers per KC step, 90 per product, for little work each. Each thread packs all of B (small)
            // for its own rows instead and runs every k step without waiting for the other.
            Parallel.perThread(rowTiles, (lo, hi) -> blocks(lo * MR, Math.min(m, hi * MR), n, k, blockColumns, a, b,
                    packBuffer(ncMax), c, cOff, ldc, init));
            return;
        }
        float[] pb = packBuffer(ncMax);
        for (int jc = 0; jc < n; jc += blockColumns) {
            int nc = Math.min(blockColumns, n - jc);
            int panels = (nc + NR - 1) / NR;
            for (int pc = 0; pc < k; pc += KC) {
                int kc = Math.min(KC, k - pc);
                int jc0 = jc;
                int pc0 = pc;
                float[] first = pc == 0 ? init : null;
                if (splitM) {
                    Parallel.range(panels, 2L * kc * NR, (lo, hi) -> b.pack(pc0, kc, jc0, lo * NR, Math.min(nc, hi * NR), pb));
                    Parallel.range((m + MR - 1) / MR, 2L * MR * nc * kc,
                            (lo, hi) -> macro(lo * MR, Math.min(m, hi * MR), 0, nc, jc0, pc0, kc, a, pb, 0, c, cOff, ldc,
                                    first));
                } else {
                    // Few rows: each thread packs and multiplies its own column panels.
                    Parallel.range(panels, 2L * m * NR * kc, (lo, hi) -> {
                        int j0 = lo * NR;
                        int j1 = Math.min(nc, hi * NR);
                        b.pack(pc0, kc, jc0, j0, j1, pb);
                        macro(0, m, j0, j1, jc0, pc0, kc, a, pb, 0, c, cOff, ldc, first);
                    });
                }
            }
        }
    }

    /** Rows [m0, m1) of C over every (column, k) block of B, packed by this thread alone (serial, or per thread). */
    private static void blocks(int m0, int m1, int n, int k, int blockColumns, Operand a, PanelSource b, float[] pb,
            float[] c, int cOff, int ldc, float[] init) {
        for (int jc = 0; jc < n; jc += blockColumns) {
            int nc = Math.min(blockColumns, n - jc);
            for (int pc = 0; pc < k; pc += KC) {
                int kc = Math.min(KC, k - pc);
                b.pack(pc, kc, jc, 0, nc, pb);
                macro(m0, m1, 0, nc, jc, pc, kc, a, pb, 0, c, cOff, ldc, pc == 0 ? init : null);
            }
        }
    }

    /** This thread's B block buffer, grown to KC × ncMax. */
    private static float[] packBuffer(int ncMax) {
        float[] packB = PACK_B.get();
        if (packB.length < KC * ncMax) {
            packB = new float[KC * ncMax];
            PACK_B.set(packB);
        }
        return packB;
    }

    /**
     * Columns per block of B: {@link #NC}, or all of them when that is at most an eighth more. Every block
     * packs A again, so 4096 columns (a 64×64 latent) as 4080 + 16 would pack each weight twice.
     */
    private static int columnBlock(int n) {
        return n <= NC + NC / 8 ? n : NC;
    }

    /** C[m × n] set to what {@code init} says (see {@link #ZEROS}; null leaves it). */
    static void start(int m, int n, float[] c, int cOff, int ldc, float[] init) {
        startTile(c, cOff, ldc, m, n, init, 0);
    }

    /** Rows of the C tile at cIndex (mr × nr, columns from col on) set to what {@code init} says. */
    private static void startTile(float[] c, int cIndex, int ldc, int mr, int nr, float[] init, int col) {
        if (init == null) {
            return;
        }
        // plain loops, which C2 vectorises: a library fill or copy per 48-float tile row costs more than the row, and
        // Vector API calls here, outside the kernels' inlining, get compiled boxed (an allocation per vector)
        for (int r = 0; r < mr; r++) {
            int row = cIndex + r * ldc;
            if (init.length == 0) {
                for (int j = 0; j < nr; j++) {
                    c[row + j] = 0f;
                }
            } else {
                for (int j = 0; j < nr; j++) {
                    c[row + j] = init[col + j];
                }
            }
        }
    }

    /**
     * True when padding n to whole NR panels would waste half the panel or more and m is wide enough
     * to swap in. (At a third, e.g. n = 64, the transposed A operand's strided packing costs more.)
     */
    private static boolean narrowN(int m, int n, int k) {
        int paddedN = roundUp(n, NR);
        return k >= 16 && m >= 4 * NR && 2L * (paddedN - n) >= paddedN;
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

    private static final ThreadLocal<float[]> PACK_A = ThreadLocal.withInitial(() -> new float[MC * KC]);
    private static final ThreadLocal<float[]> PACK_B = ThreadLocal.withInitial(() -> new float[0]);

    /**
     * Rows [m0, m1) × packed-B columns [j0, j1) of the block at (jc, pc): packs A per MC rows into
     * this thread's buffer and sweeps the register tiles, B micro-panel outermost so it stays in L1.
     */
    static void macro(int m0, int m1, int j0, int j1, int jc, int pc, int kc, Operand a, float[] pb, int pbOff,
            float[] c, int cOff, int ldc, float[] init) {
        if (j1 - j0 <= DIRECT_A_PANELS * NR && a.cs == 1 && a.data != null) {
            directA(m0, m1, j0, j1, jc, pc, kc, a, pb, pbOff, c, cOff, ldc, init);
            return;
        }
        float[] pa = PACK_A.get();
        for (int ic = m0; ic < m1; ic += MC) {
            int mc = Math.min(MC, m1 - ic);
            GemmPacking.packA(a, ic, mc, pc, kc, pa);
            for (int jr = j0; jr < j1; jr += NR) {
                int nr = Math.min(NR, j1 - jr);
                for (int ir = 0; ir < mc; ir += MR) {
                    int mr = Math.min(MR, mc - ir);
                    int cIndex = cOff + (ic + ir) * ldc + jc + jr;
                    startTile(c, cIndex, ldc, mr, nr, init, jc + jr);
                    if (mr == MR && nr == NR) {
                        kernel(kc, pa, ir * kc, pb, pbOff + jr * kc, c, cIndex, ldc);
                    } else if (mr == MR && nr == 2 * L) {
                        // a last panel of two vectors (n = 320, 1280, ... with NR = 48): no scratch needed
                        kernel2(kc, pa, ir * kc, MR, 1, 2, 3, pb, pbOff + jr * kc, c, cIndex, ldc);
                    } else if (mr == MR && nr == L) {
                        // a last panel of one vector (n = 64, 1024, 4096, ...: n mod 48 = 16)
                        kernel1(kc, pa, ir * kc, MR, 1, 2, 3, pb, pbOff + jr * kc, c, cIndex, ldc);
                    } else {
                        edgeKernel(kc, pa, ir * kc, MR, 1, 2, 3, pb, pbOff + jr * kc, c, cIndex, ldc, mr, nr);
                    }
                }
            }
        }
    }

    /**
     * Up to {@link #DIRECT_A_PANELS} column panels (attention's P·V with 40 columns, a conv at 8×8 or 4×4 with a
     * few hundred positions): each row of A meets B only that many times, so packing it would cost about as
     * much as the products. The kernels read A's rows in place instead (contiguous along k), every panel of
     * one row tile in turn while its rows are in L1; rows past m1 in a last partial tile repeat row m1 − 1 and
     * are dropped.
     */
    private static void directA(int m0, int m1, int j0, int j1, int jc, int pc, int kc, Operand a, float[] pb,
            int pbOff, float[] c, int cOff, int ldc, float[] init) {
        for (int ir = m0; ir < m1; ir += MR) {
            int mr = Math.min(MR, m1 - ir);
            int first = a.off + ir * a.rs + pc;
            int r1 = Math.min(1, mr - 1) * a.rs;
            int r2 = Math.min(2, mr - 1) * a.rs;
            int r3 = Math.min(3, mr - 1) * a.rs;
            for (int jr = j0; jr < j1; jr += NR) {
                int nr = Math.min(NR, j1 - jr);
                int cIndex = cOff + ir * ldc + jc + jr;
                startTile(c, cIndex, ldc, mr, nr, init, jc + jr);
                if (mr == MR && nr == NR) {
                    kernel(kc, a.data, first, 1, r1, r2, r3, pb, pbOff + jr * kc, c, cIndex, ldc);
                } else if (mr == MR && nr == 2 * L) {
                    kernel2(kc, a.data, first, 1, r1, r2, r3, pb, pbOff + jr * kc, c, cIndex, ldc);
                } else if (mr == MR && nr == L) {
                    kernel1(kc, a.data, first, 1, r1, r2, r3, pb, pbOff + jr * kc, c, cIndex, ldc);
                } else {
                    edgeKernel(kc, a.data, first, 1, r1, r2, r3, pb, pbOff + jr * kc, c, cIndex, ldc, mr, nr);
                }
            }
        }
    }

    static int roundUp(int v, int m) {
        return (v + m - 1) / m * m;
    }

    /** The MR×(3·lanes) register tile: C tile += Apanel·Bpanel over kc. */
    private static void kernel(int kc, float[] pa, int aBase, float[] pb, int bBase, float[] c, int cIndex, int ldc) {
        kernel(kc, pa, aBase, MR, 1, 2, 3, pb, bBase, c, cIndex, ldc);
    }

    /** The same tile with A at a[aBase + p·aStep + rowOffset]: a packed panel, or rows read in place. */
    private static void kernel(int kc, float[] pa, int aBase, int aStep, int r1, int r2, int r3, float[] pb, int bBase,
            float[] c, int cIndex, int ldc) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S), c02 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S), c12 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S), c22 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S), c32 = FloatVector.zero(S);
        int ai = aBase;
        int bi = bBase;
        for (int p = 0; p < kc; p++, ai += aStep, bi += NR) {
            FloatVector b0 = FloatVector.fromArray(S, pb, bi);
            FloatVector b1 = FloatVector.fromArray(S, pb, bi + L);
            FloatVector b2 = FloatVector.fromArray(S, pb, bi + 2 * L);
            FloatVector a;
            a = FloatVector.broadcast(S, pa[ai]);
            c00 = a.fma(b0, c00);
            c01 = a.fma(b1, c01);
            c02 = a.fma(b2, c02);
            a = FloatVector.broadcast(S, pa[ai + r1]);
            c10 = a.fma(b0, c10);
            c11 = a.fma(b1, c11);
            c12 = a.fma(b2, c12);
            a = FloatVector.broadcast(S, pa[ai + r2]);
            c20 = a.fma(b0, c20);
            c21 = a.fma(b1, c21);
            c22 = a.fma(b2, c22);
            a = FloatVector.broadcast(S, pa[ai + r3]);
            c30 = a.fma(b0, c30);
            c31 = a.fma(b1, c31);
            c32 = a.fma(b2, c32);
        }
        // The finished tile is added into C right here, not through a helper taking FloatVectors: the JIT
        // declines to inline a call made once per tile ("low call site frequency"), and a vector passed
        // to a method that is not inlined is boxed on the heap, 12 per tile (~2/3 of all allocations of a
        // UNet forward, and the most sampled frame of its profile).
        int i1 = cIndex + ldc;
        int i2 = cIndex + 2 * ldc;
        int i3 = cIndex + 3 * ldc;
        FloatVector.fromArray(S, c, cIndex).add(c00).intoArray(c, cIndex);
        FloatVector.fromArray(S, c, cIndex + L).add(c01).intoArray(c, cIndex + L);
        FloatVector.fromArray(S, c, cIndex + 2 * L).add(c02).intoArray(c, cIndex + 2 * L);
        FloatVector.fromArray(S, c, i1).add(c10).intoArray(c, i1);
        FloatVector.fromArray(S, c, i1 + L).add(c11).intoArray(c, i1 + L);
        FloatVector.fromArray(S, c, i1 + 2 * L).add(c12).intoArray(c, i1 + 2 * L);
        FloatVector.fromArray(S, c, i2).add(c20).intoArray(c, i2);
        FloatVector.fromArray(S, c, i2 + L).add(c21).intoArray(c, i2 + L);
        FloatVector.fromArray(S, c, i2 + 2 * L).add(c22).intoArray(c, i2 + 2 * L);
        FloatVector.fromArray(S, c, i3).add(c30).intoArray(c, i3);
        FloatVector.fromArray(S, c, i3 + L).add(c31).intoArray(c, i3 + L);
        FloatVector.fromArray(S, c, i3 + 2 * L).add(c32).intoArray(c, i3 + 2 * L);
    }

    /** The MR×(2·lanes) tile over the first two vectors of a zero-padded last panel; A as in {@link #kernel}. */
    private static void kernel2(int kc, float[] pa, int aBase, int aStep, int r1, int r2, int r3, float[] pb, int bBase,
            float[] c, int cIndex, int ldc) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        int ai = aBase;
        int bi = bBase;
        for (int p = 0; p < kc; p++, ai += aStep, bi += NR) {
            FloatVector b0 = FloatVector.fromArray(S, pb, bi);
            FloatVector b1 = FloatVector.fromArray(S, pb, bi + L);
            FloatVector a;
            a = FloatVector.broadcast(S, pa[ai]);
            c00 = a.fma(b0, c00);
            c01 = a.fma(b1, c01);
            a = FloatVector.broadcast(S, pa[ai + r1]);
            c10 = a.fma(b0, c10);
            c11 = a.fma(b1, c11);
            a = FloatVector.broadcast(S, pa[ai + r2]);
            c20 = a.fma(b0, c20);
            c21 = a.fma(b1, c21);
            a = FloatVector.broadcast(S, pa[ai + r3]);
            c30 = a.fma(b0, c30);
            c31 = a.fma(b1, c31);
        }
        int i1 = cIndex + ldc; // added in place, as in kernel: no FloatVector crosses a call
        int i2 = cIndex + 2 * ldc;
        int i3 = cIndex + 3 * ldc;
        FloatVector.fromArray(S, c, cIndex).add(c00).intoArray(c, cIndex);
        FloatVector.fromArray(S, c, cIndex + L).add(c01).intoArray(c, cIndex + L);
        FloatVector.fromArray(S, c, i1).add(c10).intoArray(c, i1);
        FloatVector.fromArray(S, c, i1 + L).add(c11).intoArray(c, i1 + L);
        FloatVector.fromArray(S, c, i2).add(c20).intoArray(c, i2);
        FloatVector.fromArray(S, c, i2 + L).add(c21).intoArray(c, i2 + L);
        FloatVector.fromArray(S, c, i3).add(c30).intoArray(c, i3);
        FloatVector.fromArray(S, c, i3 + L).add(c31).intoArray(c, i3 + L);
    }

    /** The MR×lanes tile over the first vector of a zero-padded last panel; A as in {@link #kernel}. */
    private static void kernel1(int kc, float[] pa, int aBase, int aStep, int r1, int r2, int r3, float[] pb, int bBase,
            float[] c, int cIndex, int ldc) {
        FloatVector c0 = FloatVector.zero(S);
        FloatVector c1 = FloatVector.zero(S);
        FloatVector c2 = FloatVector.zero(S);
        FloatVector c3 = FloatVector.zero(S);
        int ai = aBase;
        int bi = bBase;
        for (int p = 0; p < kc; p++, ai += aStep, bi += NR) {
            FloatVector b0 = FloatVector.fromArray(S, pb, bi);
            c0 = FloatVector.broadcast(S, pa[ai]).fma(b0, c0);
            c1 = FloatVector.broadcast(S, pa[ai + r1]).fma(b0, c1);
            c2 = FloatVector.broadcast(S, pa[ai + r2]).fma(b0, c2);
            c3 = FloatVector.broadcast(S, pa[ai + r3]).fma(b0, c3);
        }
        int i1 = cIndex + ldc; // added in place, as in kernel: no FloatVector crosses a call
        int i2 = cIndex + 2 * ldc;
        int i3 = cIndex + 3 * ldc;
        FloatVector.fromArray(S, c, cIndex).add(c0).intoArray(c, cIndex);
        FloatVector.fromArray(S, c, i1).add(c1).intoArray(c, i1);
        FloatVector.fromArray(S, c, i2).add(c2).intoArray(c, i2);
        FloatVector.fromArray(S, c, i3).add(c3).intoArray(c, i3);
    }

    /**
     * Partial tiles at the matrix edges. The packed B panels are zero-padded to full NR columns (and A
     * to MR rows, or its last row repeated when read in place), so the full register kernel runs into a
     * scratch tile and only the valid mr×nr corner is added to C. A is addressed as in {@link #kernel}.
     */
    private static void edgeKernel(int kc, float[] pa, int aBase, int aStep, int r1, int r2, int r3, float[] pb,
            int bBase, float[] c, int cIndex, int ldc, int mr, int nr) {
        float[] tile = EDGE_TILE.get();
        java.util.Arrays.fill(tile, 0f);
        kernel(kc, pa, aBase, aStep, r1, r2, r3, pb, bBase, tile, 0, NR);
        for (int r = 0; r < mr; r++) {
            for (int j = 0; j < nr; j++) {
                c[cIndex + r * ldc + j] += tile[r * NR + j];
            }
        }
    }

    private static final ThreadLocal<float[]> EDGE_TILE = ThreadLocal.withInitial(() -> new float[MR * NR]);
}
