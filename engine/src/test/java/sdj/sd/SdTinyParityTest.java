package sdj.sd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import sdj.io.TestData;
import sdj.sd.verify.Check;
import sdj.sd.verify.ReferenceRun;

/**
 * The networks, their gradients and the DDIM/PLMS samplers against the CompVis/OpenAI reference
 * tensors of shared/testdata/sd-tiny, from the fp32 and the fp16 checkpoint.
 */
class SdTinyParityTest {
    /** clip 1 + unet 1 + vae 2 + loss, dx and 80 weight gradients + 2 samplers. */
    private static final int EXPECTED_CHECKS = 1 + 1 + 2 + 1 + 1 + 80 + 2;

    @Test
    void fp32CheckpointMatchesEveryReferenceTensor() throws Exception {
        assertAllPass(runOn("model.ckpt"));
    }

    @Test
    void fp16CheckpointMatchesWithinHalfPrecisionTolerance() throws Exception {
        assertAllPass(runOn("model-fp16.ckpt"));
    }

    private static List<Check> runOn(String checkpoint) throws Exception {
        List<Check> checks = new ArrayList<>();
        ReferenceRun.run(TestData.sdTiny(checkpoint), TestData.sdTiny("reference.safetensors"), checks::add);
        return checks;
    }

    private static void assertAllPass(List<Check> checks) {
        String failed = checks.stream().filter(c -> !c.pass()).map(Check::line).collect(Collectors.joining("\n"));
        assertTrue(failed.isEmpty(), "failed checks:\n" + failed);
        assertEquals(EXPECTED_CHECKS, checks.size(), "every reference tensor is checked");
        assertTrue(checks.stream().anyMatch(c -> c.name().equals("sample.plms10")));
    }
}
