package sdj.train.lora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import sdj.io.SafeTensors;
import sdj.io.TestData;
import sdj.sd.verify.Check;
import sdj.tensor.Tensor;
import sdj.train.ReferenceCheck;
import sdj.train.TrainTestData;

/**
 * The LoRA run of sd-tiny-train section D against its reference: both updates with two learning-rate groups and
 * clipping, every gradient of update 1 and every adapter tensor after update 2, with modules named by the
 * kohya name table (which must find every module the reference names).
 */
class LoraReferenceTest {
    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void bothUpdatesMatchTheReference() throws Exception {
        ReferenceCheck check = LoraReference.check(TestData.sdTiny("model.ckpt"), TrainTestData.reference(),
                c -> {
                    if (!c.name().startsWith("lora.after.") && !c.name().startsWith("lora.grad.") || !c.pass()) {
                        System.out.println(c.line());
                    }
                });
        System.out.println(check.summary());
        worst(check, "lora.grad.1.");
        worst(check, "lora.after.2.");
        String failed = check.checks().stream().filter(c -> !c.pass()).map(Check::line).collect(Collectors.joining("\n"));
        assertTrue(failed.isEmpty(), "failed checks:\n" + failed);
        List<String> scalars = check.checks().stream().map(Check::name)
                .filter(n -> n.startsWith("lora.loss.") || n.startsWith("lora.gradnorm.")).toList();
        assertEquals(List.of("lora.loss.1", "lora.gradnorm.1", "lora.loss.2", "lora.gradnorm.2"), scalars);
        assertEquals(204 * 2, check.checks().stream().filter(c -> c.name().startsWith("lora.grad.1.")).count(),
                "the README's 204 modules, down and up");
        // 2 losses, 2 norms, context and eps, then down+up of 204 modules as gradients and as weights after update 2
        int expected = 2 + 2 + 2 + 2 * 408;
        assertEquals(expected + "/" + expected + " checks pass", check.summary());
    }

    @Test
    void fragileElementsAreTheTinyGradients() {
        assertArrayEquals(new long[] {1, 3}, LoraReference.fragileIndices(new float[] {1f, 0.99e-4f, -0.5f, 0f}));
        assertArrayEquals(new long[] {}, LoraReference.fragileIndices(new float[] {1f, 1.5e-4f, -2e-4f}));
    }

    @Test
    void theReferenceHasTheReadmesCountOfFragileElements() throws Exception {
        long fragile = 0;
        long elements = 0;
        for (Map.Entry<String, Tensor> e : SafeTensors.open(TrainTestData.reference()).tensors().entrySet()) {
            if (e.getKey().startsWith("lora.grad.1.")) {
                float[] g = e.getValue().toFloatArray();
                fragile += LoraReference.fragileIndices(g).length;
                elements += g.length;
            }
        }
        assertEquals(177152, elements, "README Tolerances: LoRA elements");
        assertEquals(151, fragile, "README Tolerances: LoRA Adam-fragile elements");
    }

    private static void worst(ReferenceCheck check, String prefix) {
        Check w = check.checks().stream().filter(c -> c.name().startsWith(prefix))
                .max((a, b) -> Double.compare(a.maxRelErr(), b.maxRelErr())).orElseThrow();
        System.out.println("worst " + prefix + "*: " + w.line());
    }
}
