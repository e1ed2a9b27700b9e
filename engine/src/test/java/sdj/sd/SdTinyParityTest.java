package sdj.sd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import sdj.io.SafeTensors;
import sdj.io.TestData;
import sdj.sd.verify.Check;
import sdj.sd.verify.ReferenceRun;

/**
 * The networks, their gradients and the DDIM/PLMS samplers against the CompVis/OpenAI reference
 * tensors of shared/testdata/sd-tiny, from the fp32 and the fp16 checkpoint.
 */
class SdTinyParityTest {

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

    /** clip 1 + unet 1 + vae 2 + loss + dx + one per weight gradient in the file + 2 samplers. */
    static long expectedChecks() throws Exception {
        long weightGrads = SafeTensors.open(TestData.sdTiny("reference.safetensors")).tensors().keySet().stream()
                .filter(k -> k.startsWith("grad.model.")).count();
        assertTrue(weightGrads > 100, "the reference lists the attention, input and output weight gradients");
        return 1 + 1 + 2 + 2 + weightGrads + 2;
    }

    private static void assertAllPass(List<Check> checks) throws Exception {
        String failed = checks.stream().filter(c -> !c.pass()).map(Check::line).collect(Collectors.joining("\n"));
        assertTrue(failed.isEmpty(), "failed checks:\n" + failed);
        assertEquals(expectedChecks(), checks.size(), "every reference output is checked");
        assertTrue(checks.stream().anyMatch(c -> c.name().equals("sample.plms10")));
    }
}
