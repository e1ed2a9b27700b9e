package sdj.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The input and output passes of {@link CpuWinograd}, one row of tiles at a time with the Vector API's lanes
 * running along the row (one lane per tile column), so every 1-D transform is a few vector FMAs.
 *
 * <p>Tiles are numbered over (image, tile row, tile column); a chunk [first, first + count) may start and end
 * inside a tile row. The input window of tile column t starts at image column t·m − 1, so the image row is
 * first split by phase: phase q holds columns t·m + q − 1 (t = 0, 1, ...). Tap k of tile t is then phase
 * k mod m at position t + k div m, a contiguous vector load for consecutive tiles.
 */
record WinogradTiling(WinogradTiles f, int n, int h, int w, int tilesY, int tilesX, int[] stride) {
    // stride: {0, m, 2m, ...}, the gather map that reads one phase of L tiles
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    WinogradTiling(WinogradTiles f, int n, int h, int w, int tilesY, int tilesX) {
        this(f, n, h, w, tilesY, tilesX, offsets(L, f.m, 0));
    }

    /** Lanes per row buffer: the tile columns plus the one a shifted tap reaches, in whole vectors. */
    private int width() {
        return (tilesX + 1 + L - 1) / L * L;
    }

    /** Lanes a pass over the tiles themselves needs: the tile columns in whole vectors. */
    private int tileLanes() {
        return (tilesX + L - 1) / L * L;
    }

    /** Whether image rows split into (and merge from) their column phases by {@link WinogradPhases}' permutes. */
    private boolean rowsInPhaseGroups() {
        return f == WinogradTiles.F4 && w % WinogradPhases.GROUP == 0;
    }

    /** v[ξ][ic][t − first] = (Bᵀ d B)[ξ] of tile t's input window in channel ic, for ic in [c0, c1). */
    void inputs(float[] x, int c, int c0, int c1, int first, int count, int ld, float[] v) {
        inputs(x, c, c0, c1, first, count, ld, null, v);
    }

    /**
     * As above with each V_ξ in the layout of {@code panels} (c × count) at v[ξ·panels.size()], ready to be the
     * right operand of a product.
     */
    void inputs(float[] x, int c, int c0, int c1, int first, int count, PackedPanels panels, float[] v) {
        inputs(x, c, c0, c1, first, count, 0, panels, v);
    }

    /** V row-major with leading dimension ld when {@code panels} is null, else in its layout. */
    private void inputs(float[] x, int c, int c0, int c1, int first, int count, int ld, PackedPanels panels,
            float[] v) {
        int m = f.m;
        int alpha = f.alpha;
        int width = width();
        int lanes = tileLanes();
        float[] phases = new float[alpha * m * width]; // [row r][phase q][t]
        float[] columns = new float[alpha * m * width + L]; // Bᵀ over rows: [j][phase q][t], + a shifted load's slack
        float[] tiles = new float[alpha * alpha * width]; // [ξ][t]
        int[] byRow = offsets(alpha, m * width, 0);
        int[] byTap = new int[alpha];
        for (int k = 0; k < alpha; k++) {
            byTap[k] = k % m * width + k / m;
        }
        int[] byLine = offsets(alpha, width, 0);
        int[] inLine = offsets(width / L, L, 0); // vector t/L of a row buffer at t
        int[] inPanels = new int[lanes / L]; // vector t/L of a row of tiles in the packed V_ξ
        int[] byPackedXi = panels == null ? null : offsets(alpha, panels.size(), 0);
        int end = first + count;
        for (int ic = c0; ic < c1; ic++) {
            for (int tileRow = first / tilesX; tileRow * tilesX < end; tileRow++) {
                int rowStart = tileRow * tilesX;
                int lo = Math.max(first, rowStart);
                int hi = Math.min(end, rowStart + tilesX);
                int b = tileRow / tilesY;
                int ty = tileRow % tilesY;
                splitPhases(x, (b * c + ic) * h * w, ty * m - 1, phases, width);
                for (int q = 0; q < m; q++) {
                    input(phases, q * width, byRow, columns, q * width, byRow, inLine, width);
                }
                if (panels != null && f == WinogradTiles.F4 && tilesX % L == 0 && lo == rowStart
                        && hi == rowStart + tilesX && (lo - first) % L == 0) {
                    // whole vectors of tiles, none across a panel (NR = 3L): stored where the products read them
                    for (int k = 0; k < inPanels.length; k++) {
                        inPanels[k] = panels.index(ic, lo - first + k * L);
                    }
                    for (int j = 0; j < alpha; j++) {
                        input(columns, j * m * width, byTap, v, j * alpha * panels.size(), byPackedXi, inPanels, lanes);
                    }
                    continue;
                }
                for (int j = 0; j < alpha; j++) {
                    input(columns, j * m * width, byTap, tiles, j * alpha * width, byLine, inLine, lanes);
                }
                for (int xi = 0; xi < alpha * alpha; xi++) {
                    if (panels == null) {
                        System.arraycopy(tiles, xi * width + lo - rowStart, v, (xi * c + ic) * ld + lo - first, hi - lo);
                    } else {
                        panels.putRow(tiles, xi * width + lo - rowStart, v, xi * panels.size(), ic, lo - first, hi - lo);
                    }
                }
            }
        }
    }

    /** phases[r][q][t] = x[plane] at row y0 + r, column t·m + q − 1; zero outside the image (the padding). */
    private void splitPhases(float[] x, int plane, int y0, float[] phases, int width) {
        int m = f.m;
        for (int r = 0; r < f.alpha; r++) {
            int iy = y0 + r;
            int at = r * m * width;
            if (iy < 0 || iy >= h) {
                java.util.Arrays.fill(phases, at, at + m * width, 0f);
                continue;
            }
            int row = plane + iy * w;
            if (rowsInPhaseGroups()) {
                // phase q holds column 4t + q − 1: columns 4t, 4t + 1, 4t + 2 are phases 1–3 at t, column 4t + 3
                // is phase 0 at t + 1; phase 0 starts with the left padding, phases 1–3 end with the right
                WinogradPhases.split(x, row, w / WinogradPhases.GROUP, phases, at + width, at + 2 * width, at + 3 * width,
                        at + 1);
                phases[at] = 0f;
                for (int q = 1; q < m; q++) {
                    phases[at + q * width + tilesX] = 0f;
                }
                continue;
            }
            for (int q = 0; q < m; q++) {
                int dst = at + q * width;
                // tiles [inFirst, inEnd) read column t·m + q − 1 inside the image: one gather of L columns m apart
                int inFirst = q == 0 ? 1 : 0;
                int inEnd = Math.min(tilesX + 1, (w - q + m) / m);
                int t = 0;
                for (; t < inFirst; t++) {
                    phases[dst + t] = 0f;
                }
                for (; t + L <= inEnd; t += L) {
                    FloatVector.fromArray(S, x, row + t * m + q - 1, stride, 0).intoArray(phases, dst + t);
                }
                for (; t < inEnd; t++) {
                    phases[dst + t] = x[row + t * m + q - 1];
                }
                for (; t <= tilesX; t++) { // lanes past tilesX feed only discarded tiles
                    phases[dst + t] = 0f;
                }
            }
        }
    }

    /**
     * y[b][oc] tile pixels = Aᵀ M A + bias for output channels [o0, o1) of the chunk's tiles, where {@code prod}
     * holds M of channels [blockStart, blockStart + blockRows): M_ξ[oc][t] at (ξ·blockRows + oc − blockStart)·ld + t.
     */
    void outputs(float[] prod, int o, int blockStart, int blockRows, int o0, int o1, int first, int count, int ld,
            float[] bias, float[] y) {
        int m = f.m;
        int alpha = f.alpha;
        int width = width();
        int lanes = tileLanes();
        float[] tiles = new float[alpha * alpha * width]; // M: [ξ][t]
        float[] rows = new float[alpha * m * width]; // M A: [j][i][t]
        float[] pixels = new float[m * m * width]; // Aᵀ M A: [i'][i][t]
        int[] byLine = offsets(alpha, width, 0);
        int[] byRow = offsets(alpha, m * width, 0);
        int[] byProduct = offsets(alpha, blockRows * ld, 0); // M_ξ to M_ξ+1 of one channel in prod
        int end = first + count;
        for (int oc = o0; oc < o1; oc++) {
            float bb = bias == null ? 0f : bias[oc];
            for (int tileRow = first / tilesX; tileRow * tilesX < end; tileRow++) {
                int rowStart = tileRow * tilesX;
                int lo = Math.max(first, rowStart);
                int hi = Math.min(end, rowStart + tilesX);
                // M_ξ of this row of tiles at src[start + ξ·step]: where the products left it when the row is whole
                // and in whole vectors, else copied into tiles first
                float[] src = prod;
                int start = (oc - blockStart) * ld + rowStart - first;
                int step = blockRows * ld;
                int[] byXi = byProduct;
                if (lo != rowStart || hi != rowStart + tilesX || tilesX % L != 0) {
                    for (int xi = 0; xi < alpha * alpha; xi++) {
                        System.arraycopy(prod, (xi * blockRows + oc - blockStart) * ld + lo - first, tiles,
                                xi * width + lo - rowStart, hi - lo);
                    }
                    src = tiles;
                    start = 0;
                    step = width;
                    byXi = byLine;
                }
                for (int j = 0; j < alpha; j++) {
                    output(src, start + j * alpha * step, byXi, rows, j * m * width, byLine, lanes, 0f);
                }
                for (int i = 0; i < m; i++) {
                    output(rows, i * width, byRow, pixels, i * width, byRow, lanes, bb);
                }
                int b = tileRow / tilesY;
                int ty = tileRow % tilesY;
                int plane = (b * o + oc) * h * w;
                boolean wholeGroups = rowsInPhaseGroups() && lo == rowStart && hi == rowStart + tilesX;
                for (int r = 0; r < m && ty * m + r < h; r++) {
                    int dst = plane + (ty * m + r) * w;
                    if (wholeGroups) {
                        int at = r * m * width;
                        WinogradPhases.merge(pixels, at, at + width, at + 2 * width, at + 3 * width,
                                w / WinogradPhases.GROUP, y, dst);
                        continue;
                    }
                    for (int t = lo - rowStart; t < hi - rowStart; t++) {
                        int cols = Math.min(m, w - t * m);
                        for (int i = 0; i < cols; i++) {
                            y[dst + t * m + i] = pixels[(r * m + i) * width + t];
                        }
                    }
                }
            }
        }
    }

    /**
     * g[ξ][oc][t − first] = (A gY Aᵀ)[ξ] of tile t's m×m output gradient in channel oc (zero past the image's
     * edge, where the forward dropped the tile's pixels), for oc in [o0, o1): the weight gradient's operand.
     */
    void gradients(float[] gy, int o, int o0, int o1, int first, int count, int ld, float[] g) {
        int m = f.m;
        int alpha = f.alpha;
        int width = width();
        int lanes = tileLanes();
        float[] phases = new float[m * m * width]; // [row r][phase q][t]: pixel (ty·m + r, t·m + q)
        float[] columns = new float[alpha * m * width]; // A over rows: [j][q][t]
        float[] tiles = new float[alpha * alpha * width]; // [ξ][t]
        int[] bySourceRow = offsets(m, m * width, 0);
        int[] byRow = offsets(alpha, m * width, 0);
        int[] byPhase = offsets(m, width, 0);
        int[] byLine = offsets(alpha, width, 0);
        int end = first + count;
        for (int oc = o0; oc < o1; oc++) {
            for (int tileRow = first / tilesX; tileRow * tilesX < end; tileRow++) {
                int rowStart = tileRow * tilesX;
                int lo = Math.max(first, rowStart);
                int hi = Math.min(end, rowStart + tilesX);
                int b = tileRow / tilesY;
                int ty = tileRow % tilesY;
                int plane = (b * o + oc) * h * w;
                for (int r = 0; r < m; r++) {
                    int iy = ty * m + r;
                    if (rowsInPhaseGroups() && iy < h) {
                        int at = r * m * width;
                        WinogradPhases.split(gy, plane + iy * w, w / WinogradPhases.GROUP, phases, at, at + width,
                                at + 2 * width, at + 3 * width);
                        continue;
                    }
                    for (int q = 0; q < m; q++) {
                        int dst = (r * m + q) * width;
                        for (int t = 0; t < tilesX; t++) {
                            int ix = t * m + q;
                            phases[dst + t] = iy < h && ix < w ? gy[plane + iy * w + ix] : 0f;
                        }
                    }
                }
                for (int q = 0; q < m; q++) {
                    combine(f.a, phases, q * width, bySourceRow, columns, q * width, byRow, lanes, 0f);
                }
                for (int j = 0; j < alpha; j++) {
                    combine(f.a, columns, j * m * width, byPhase, tiles, j * alpha * width, byLine, lanes, 0f);
                }
                for (int xi = 0; xi < alpha * alpha; xi++) {
                    System.arraycopy(tiles, xi * width + lo - rowStart, g, (xi * o + oc) * ld + lo - first, hi - lo);
                }
            }
        }
    }

    /**
     * Bᵀ lane-wise (see {@link #combine}), vector t/L of output i stored at dst[dBase + dOff[i] + dVec[t/L]]
     * (dVec = {0, L, 2L, ...} for a row buffer, the only layout F(2,3)'s {@code combine} writes); F(4,3)'s written
     * out, the hottest loop of the input pass.
     */
    private void input(float[] src, int sBase, int[] sOff, float[] dst, int dBase, int[] dOff, int[] dVec, int lanes) {
        if (f != WinogradTiles.F4) {
            combine(f.bt, src, sBase, sOff, dst, dBase, dOff, lanes, 0f);
            return;
        }
        FloatVector four = FloatVector.broadcast(S, 4f);
        FloatVector minusFour = FloatVector.broadcast(S, -4f);
        FloatVector minusFive = FloatVector.broadcast(S, -5f);
        for (int t = 0; t < lanes; t += L) {
            FloatVector d0 = FloatVector.fromArray(S, src, sBase + sOff[0] + t);
            FloatVector d1 = FloatVector.fromArray(S, src, sBase + sOff[1] + t);
            FloatVector d2 = FloatVector.fromArray(S, src, sBase + sOff[2] + t);
            FloatVector d3 = FloatVector.fromArray(S, src, sBase + sOff[3] + t);
            FloatVector d4 = FloatVector.fromArray(S, src, sBase + sOff[4] + t);
            FloatVector d5 = FloatVector.fromArray(S, src, sBase + sOff[5] + t);
            FloatVector a = d2.fma(minusFour, d4); // shared by rows 1 and 2
            FloatVector b = d1.fma(minusFour, d3);
            FloatVector c = d4.sub(d2); // shared by rows 3 and 4
            FloatVector e = d3.sub(d1).add(d3.sub(d1));
            int at = dBase + dVec[t / L];
            d0.fma(four, d2.fma(minusFive, d4)).intoArray(dst, at + dOff[0]);
            a.add(b).intoArray(dst, at + dOff[1]);
            a.sub(b).intoArray(dst, at + dOff[2]);
            c.add(e).intoArray(dst, at + dOff[3]);
            c.sub(e).intoArray(dst, at + dOff[4]);
            d1.fma(four, d3.fma(minusFive, d5)).intoArray(dst, at + dOff[5]);
        }
    }

    /** Aᵀ lane-wise plus init (see {@link #combine}); F(4,3)'s written out. */
    private void output(float[] src, int sBase, int[] sOff, float[] dst, int dBase, int[] dOff, int lanes, float init) {
        if (f != WinogradTiles.F4) {
            combine(f.at, src, sBase, sOff, dst, dBase, dOff, lanes, init);
            return;
        }
        FloatVector two = FloatVector.broadcast(S, 2f);
        FloatVector four = FloatVector.broadcast(S, 4f);
        FloatVector eight = FloatVector.broadcast(S, 8f);
        FloatVector bias = FloatVector.broadcast(S, init);
        for (int t = 0; t < lanes; t += L) {
            FloatVector m0 = FloatVector.fromArray(S, src, sBase + sOff[0] + t);
            FloatVector m1 = FloatVector.fromArray(S, src, sBase + sOff[1] + t);
            FloatVector m2 = FloatVector.fromArray(S, src, sBase + sOff[2] + t);
            FloatVector m3 = FloatVector.fromArray(S, src, sBase + sOff[3] + t);
            FloatVector m4 = FloatVector.fromArray(S, src, sBase + sOff[4] + t);
            FloatVector m5 = FloatVector.fromArray(S, src, sBase + sOff[5] + t);
            FloatVector p12 = m1.add(m2);
            FloatVector d12 = m1.sub(m2);
            FloatVector p34 = m3.add(m4);
            FloatVector d34 = m3.sub(m4);
            m0.add(p12).add(p34).add(bias).intoArray(dst, dBase + dOff[0] + t);
            d34.fma(two, d12).add(bias).intoArray(dst, dBase + dOff[1] + t);
            p34.fma(four, p12).add(bias).intoArray(dst, dBase + dOff[2] + t);
            d34.fma(eight, d12).add(m5).add(bias).intoArray(dst, dBase + dOff[3] + t);
        }
    }

    /** {0, step, 2·step, ...} plus base, count entries. */
    static int[] offsets(int count, int step, int base) {
        int[] out = new int[count];
        for (int i = 0; i < count; i++) {
            out[i] = base + i * step;
        }
        return out;
    }

    /**
     * dst[dBase + dOff[i] + t] = init + Σ_k coef[i][k]·src[sBase + sOff[k] + t] for t in [0, lanes), lanes a
     * multiple of the vector length: one 1-D transform for a row of tiles at once. Zero coefficients are
     * multiplied too: skipping them by a branch around the vector update made C2 box the vectors (1.3 GiB per
     * UNet forward), and for finite inputs a zero term changes no more than the sign of a zero sum.
     */
    static void combine(float[][] coef, float[] src, int sBase, int[] sOff, float[] dst, int dBase, int[] dOff,
            int lanes, float init) {
        for (int t = 0; t < lanes; t += L) {
            for (int i = 0; i < coef.length; i++) {
                float[] row = coef[i];
                FloatVector acc = FloatVector.broadcast(S, init);
                for (int k = 0; k < row.length; k++) {
                    acc = FloatVector.fromArray(S, src, sBase + sOff[k] + t).fma(FloatVector.broadcast(S, row[k]), acc);
                }
                acc.intoArray(dst, dBase + dOff[i] + t);
            }
        }
    }
}
