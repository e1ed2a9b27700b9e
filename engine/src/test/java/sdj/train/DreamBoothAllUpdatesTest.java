package sdj.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import sdj.io.SafeTensors;
import sdj.io.TestData;
import sdj.sd.verify.Check;

/**
 * The whole DreamBooth reference run of sd-tiny-train section E (diffusers semantics, torch 1.13 AdamW and
 * clip_grad_norm_): update 1, clipping, AdamW, update 2 on the same batch, and every UNet weight after update 2
 * against W_init + the stored float16 delta with the README's fragile-element rules. The tiny UNet takes
 * seconds per update on the CPU; the timeout catches a run that has become far slower.
 */
class DreamBoothAllUpdatesTest {
    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void bothUpdatesAndEveryWeightMatchTheReference() throws Exception {
        ReferenceCheck check = DreamBoothReference.checkAllUpdates(TestData.sdTiny("model.ckpt"),
                TrainTestData.reference(), c -> {
                    if (!c.name().startsWith("db.after.") || !c.pass()) {
                        System.out.println(c.line());
                    }
                });
        System.out.println(check.summary());
        String failed = check.checks().stream().filter(c -> !c.pass()).map(Check::line).collect(Collectors.joining("\n"));
        assertTrue(failed.isEmpty(), "failed checks:\n" + failed);

        List<String> names = check.checks().stream().map(Check::name).toList();
        List<String> scalars = names.stream().filter(n -> n.startsWith("db.loss.") || n.startsWith("db.gradnorm.")).toList();
        assertEquals(List.of("db.loss.1", "db.gradnorm.1", "db.loss.2", "db.gradnorm.2"), scalars);
        List<String> weightKeys = names.stream().filter(n -> n.startsWith("db.after.2.")).map(n -> n.substring(11))
                .sorted().toList();
        List<String> deltaKeys = SafeTensors.open(TrainTestData.reference()).tensors().keySet().stream()
                .filter(n -> n.startsWith("db.delta.2.")).map(n -> n.substring(11)).sorted().toList();
        assertEquals(686, deltaKeys.size(), "the README's count of UNet tensors");
        assertEquals(deltaKeys, weightKeys, "one weight check per UNet tensor of the reference");
        assertEquals((12 + 2 + 686) + "/" + (12 + 2 + 686) + " checks pass", check.summary());
    }
}
