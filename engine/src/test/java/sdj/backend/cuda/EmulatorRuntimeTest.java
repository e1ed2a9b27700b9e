package sdj.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import sdj.tensor.DType;

/**
 * The CUDA emulator's runtime (kernels/emu/runtime.cpp) on the test kernels of kernels/emu/selftest.cu:
 * block-wide reductions, shuffles whose source lanes have already finished or do not exist,
 * and lanes split between a block barrier and a warp shuffle (a deadlock, reported as one). Runs
 * wherever the emulator was built, GPU or not.
 */
class EmulatorRuntimeTest {
    private CudaDevice device;

    @BeforeEach
    void emulator() {
        String problem = EmulatedDriver.problem();
        assumeTrue(problem == null, () -> "skipped: " + problem);
        device = new CudaDevice(new EmulatedDriver());
    }

    @Test
    void blockSumOverWholeWarps() {
        for (int threads : new int[] {32, 128, 1024}) {
            try (CudaTensor out = CudaTensor.empty(device, DType.F32, 2 * threads)) {
                device.kernel("selftest", "block_sum_test").launch(LaunchShape.grid(2, 1, 1, threads, 0), out.ptr());
                float[] expected = new float[2 * threads];
                java.util.Arrays.fill(expected, threads * (threads + 1) / 2f);
                assertArrayEquals(expected, out.toFloatArray(), "blockDim " + threads);
            }
        }
    }

    /** Blocks run in parallel on the emulator's workers; each must see only its own __shared__ memory. */
    @Test
    void blocksOnParallelWorkersHaveTheirOwnSharedMemory() {
        int blocks = 64;
        try (CudaTensor out = CudaTensor.empty(device, DType.I32, blocks)) {
            device.kernel("selftest", "shared_per_block_test").launch(LaunchShape.grid(blocks, 1, 1, 64, 0), out.ptr(),
                    200);
            // per block, the rounds in which it saw another block's shared word
            assertArrayEquals(new int[blocks], ints(out));
        }
    }

    /** A shuffle from a lane that a partial warp does not have is undefined on a GPU: the launch fails. */
    @Test
    void shuffleFromAMissingLaneOfAPartialWarpFailsTheLaunch() {
        assertEquals("launch of block_sum_test grid (1, 1, 1) block 40 smem 0 failed on the CUDA emulator: thread 39"
                + " of block (0, 0, 0) shuffled from lane 23, but its warp has only 8 threads",
                launchFailure("block_sum_test", 40));
    }

    @Test
    void shuffleSourcesStayValidWhileLanesFinish() {
        int threads = 64;
        int rounds = 3;
        try (CudaTensor out = CudaTensor.empty(device, DType.I32, threads)) {
            device.kernel("selftest", "rotate_then_exit_test").launch(LaunchShape.grid(1, 1, 1, threads, 0), out.ptr(),
                    rounds);
            int[] expected = new int[threads];
            for (int t = 0; t < threads; t++) {
                expected[t] = (t & ~31) + ((t & 31) + rounds) % 32;
            }
            assertArrayEquals(expected, ints(out));
        }
    }

    @Test
    void lanesSplitBetweenBarrierAndShuffleAreReportedNotHung() {
        assertEquals("launch of divergent_barrier_test grid (1, 1, 1) block 64 smem 0 failed on the CUDA emulator: "
                + "block (0, 0, 0) deadlocked: 64 of its 64 threads wait at barriers that can never complete",
                launchFailure("divergent_barrier_test", 64));
    }

    @Test
    void syncwarpIsABarrierForTheWarpsLanes() {
        int threads = 64;
        for (int salt : new int[] {1000, 2000}) {
            try (CudaTensor out = CudaTensor.empty(device, DType.I32, threads)) {
                device.kernel("selftest", "syncwarp_rotate_test").launch(LaunchShape.grid(1, 1, 1, threads, 0),
                        out.ptr(), salt);
                int[] expected = new int[threads];
                for (int t = 0; t < threads; t++) {
                    expected[t] = (t & ~31) + ((t + 1) & 31) + salt;
                }
                assertArrayEquals(expected, ints(out), "salt " + salt);
            }
        }
    }

    /** A legal WMMA load computes; a misaligned pointer or a bad leading dimension fails the launch. */
    @Test
    void wmmaLoadsCheckAlignmentAndLeadingDimension() {
        try (CudaTensor out = CudaTensor.empty(device, DType.F32, 256)) {
            Kernel k = device.kernel("selftest", "wmma_load_test");
            for (int[] legal : new int[][] {{0, 16}, {64, 24}}) {
                k.launch(LaunchShape.grid(1, 1, 1, 32, 0), out.ptr(), legal[0], legal[1]);
                float[] sixteens = new float[256];
                java.util.Arrays.fill(sixteens, 16f);
                assertArrayEquals(sixteens, out.toFloatArray(), "offset " + legal[0] + " ldm " + legal[1]);
            }
            String misaligned = assertThrows(CudaException.class,
                    () -> k.launch(LaunchShape.grid(1, 1, 1, 32, 0), out.ptr(), 16, 16)).getMessage();
            assertTrue(misaligned.contains("wmma::load_matrix_sync with a pointer") && misaligned.contains(
                    "not 32-byte aligned"), misaligned);
            String badLdm = assertThrows(CudaException.class,
                    () -> k.launch(LaunchShape.grid(1, 1, 1, 32, 0), out.ptr(), 0, 20)).getMessage();
            assertTrue(badLdm.endsWith("wmma::load_matrix_sync with ldm 20, not a multiple of 16 bytes (2-byte "
                    + "elements)"), badLdm);
        }
    }

    /** An I32 device tensor's values. */
    private static int[] ints(CudaTensor t) {
        return java.util.Arrays.stream(t.toHost().toLongArray()).mapToInt(v -> (int) v).toArray();
    }

    /** The message of the CudaException that launching one block of {@code threads} throws. */
    private String launchFailure(String kernel, int threads) {
        try (CudaTensor out = CudaTensor.empty(device, DType.F32, threads)) {
            Kernel k = device.kernel("selftest", kernel);
            return assertThrows(CudaException.class, () -> k.launch(LaunchShape.grid(1, 1, 1, threads, 0), out.ptr()))
                    .getMessage();
        }
    }
}
