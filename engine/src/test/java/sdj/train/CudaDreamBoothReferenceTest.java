package sdj.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import sdj.backend.cuda.Cuda;
import sdj.io.TestData;
import sdj.sd.verify.Check;
import sdj.tensor.DType;
import sdj.tensor.Device;

/**
 * The DreamBooth update-1 checks with the model on CUDA in fp32 (the GPU tape's backward), held to
 * twice the CPU tolerances (12/12 passed on the emulator when written); skipped without a GPU.
 */
class CudaDreamBoothReferenceTest {
    @Test
    void update1MatchesTheReferenceOnCuda() throws Exception {
        assumeTrue(Cuda.available(), () -> "skipped: CUDA unavailable: " + Cuda.unavailableReason());
        // ~5 minutes on the host emulator (VAE encoder, UNet forward and backward on emulated kernels;
        // those kernels are covered by CudaSdTinyParityTest there), so this full run waits for a GPU.
        assumeFalse(Cuda.device().isEmulated(), "skipped on the CUDA emulator: slow; runs on a GPU");
        ReferenceCheck check = DreamBoothReference.checkUpdate1(TestData.sdTiny("model.ckpt"), TrainTestData.reference(),
                Device.CUDA, DType.F32, c -> System.out.println("cuda " + c.line()));
        String failed = check.checks().stream().filter(c -> !c.pass()).map(Check::line).collect(Collectors.joining("\n"));
        assertTrue(failed.isEmpty(), "failed checks:\n" + failed);
        assertEquals(12, check.checks().size(), check.summary());
    }
}
