package sdj.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import sdj.tensor.DType;

/** Runs everywhere: probing for CUDA never throws, and says why it is unavailable when it is. */
class CudaAvailabilityTest {
    @Test
    void availableNeverThrowsAndExplainsItself() {
        boolean available = assertDoesNotThrow(Cuda::available);
        if (available) {
            assertNull(Cuda.unavailableReason());
            assertNotNull(Cuda.device().name());
        } else {
            String reason = Cuda.unavailableReason();
            assertNotNull(reason);
            assertFalse(reason.isBlank());
            assertFalse(reason.contains("\n"), "one-line reason: " + reason);
            CudaException e = assertThrows(CudaException.class, Cuda::device);
            assertTrue(e.getMessage().contains(reason));
        }
    }

    @Test
    void precisionParsesCommandLineNames() {
        assertEquals(DType.F16, DType.parsePrecision("fp16"));
        assertEquals(DType.BF16, DType.parsePrecision("BF16"));
        assertEquals(DType.F32, DType.parsePrecision("fp32"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DType.parsePrecision("int8"));
        assertTrue(e.getMessage().contains("fp16, bf16 or fp32"));
    }

    @Test
    void allocatorSizeClassesRoundUp() {
        assertEquals(512, CachingAllocator.sizeClass(1));
        assertEquals(512, CachingAllocator.sizeClass(512));
        assertEquals(1024, CachingAllocator.sizeClass(513));
        assertEquals(2L << 20, CachingAllocator.sizeClass((1L << 20) + 1));
        assertEquals(4L << 20, CachingAllocator.sizeClass((2L << 20) + 1));
    }

    @Test
    void outOfMemoryMessageIsOneActionableSentence() {
        String msg = new CudaOutOfMemory(3L << 30, new AllocatorStats(10L << 30, 12L << 30, 11L << 30, 12L << 30),
                1L << 30, 141L << 30).getMessage();
        assertTrue(msg.contains("3.0 GiB"), msg);
        assertTrue(msg.contains("batch size"), msg);
        assertFalse(msg.contains("\n"));
    }

    @Test
    void cublasLtIsSoughtInCuda13ToolkitAndWheelFolders() throws IOException {
        List<Path> dirs = CublasLtLibrary.candidateDirs();
        assertTrue(dirs.contains(Path.of("/usr/local/cuda/targets/x86_64-linux/lib")), dirs.toString());
        try (DirectoryStream<Path> pythons = Files.newDirectoryStream(Path.of("/usr/lib"), "python3*")) {
            for (Path python : pythons) {
                assertTrue(dirs.contains(python.resolve("dist-packages/nvidia/cu13/lib")), python + " not searched");
                assertTrue(dirs.contains(python.resolve("site-packages/nvidia/cublas/lib")), python + " not searched");
            }
        }
    }
}
