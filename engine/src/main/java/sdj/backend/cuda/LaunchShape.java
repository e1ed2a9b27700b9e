package sdj.backend.cuda;

/** Grid and block sizes of one launch (1-D blocks), with the common shapes our kernels use. */
record LaunchShape(int gridX, int gridY, int gridZ, int blockX, int sharedBytes) {
    /** Grid-stride kernels need no more blocks than this to fill an H100/H200 many times over. */
    private static final long MAX_STRIDED_BLOCKS = 65_535;
    /** CUDA's limits on every GPU since compute capability 3.0: the emulator would run past them, a GPU refuses. */
    static final int MAX_GRID_YZ = 65_535;
    static final int MAX_BLOCK = 1024;

    LaunchShape {
        if (gridX < 0 || gridY < 0 || gridZ < 0 || gridY > MAX_GRID_YZ || gridZ > MAX_GRID_YZ || blockX < 1
                || blockX > MAX_BLOCK || sharedBytes < 0) {
            throw new IllegalArgumentException("launch " + describe(gridX, gridY, gridZ, blockX, sharedBytes)
                    + " is outside CUDA's limits (grid y and z at most " + MAX_GRID_YZ + ", 1 to " + MAX_BLOCK
                    + " threads a block)");
        }
    }

    /** A grid with no blocks: nothing to run (a GPU rejects such a launch, so it is skipped). */
    boolean empty() {
        return gridX == 0 || gridY == 0 || gridZ == 0;
    }

    /** n elements, one per thread, in a grid-stride loop: 256 threads per block. */
    static LaunchShape elementwise(long n) {
        long blocks = Math.max(1, Math.min((n + 255) / 256, MAX_STRIDED_BLOCKS));
        return new LaunchShape((int) blocks, 1, 1, 256, 0);
    }

    /** One block of 256 threads per row (reductions, softmax, norms). */
    static LaunchShape perRow(long rows) {
        if (rows > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(rows + " rows exceed one grid dimension");
        }
        return new LaunchShape((int) rows, 1, 1, 256, 0);
    }

    static LaunchShape grid(int x, int y, int z, int block, int sharedBytes) {
        return new LaunchShape(x, y, z, block, sharedBytes);
    }

    static int ceilDiv(long a, long b) {
        return Math.toIntExact((a + b - 1) / b);
    }

    @Override
    public String toString() {
        return describe(gridX, gridY, gridZ, blockX, sharedBytes);
    }

    private static String describe(int gridX, int gridY, int gridZ, int blockX, int sharedBytes) {
        return "grid (" + gridX + ", " + gridY + ", " + gridZ + ") block " + blockX + " smem " + sharedBytes;
    }
}
