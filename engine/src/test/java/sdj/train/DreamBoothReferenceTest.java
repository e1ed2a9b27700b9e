package sdj.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import sdj.io.TestData;
import sdj.sd.verify.Check;

/**
 * The DreamBooth objective against sd-tiny-train section E, update 1 (CompVis UNet, torch autograd):
 * inputs, context, offset noise, min-SNR weights, UNet prediction, loss and the pre-clip gradient norm.
 */
class DreamBoothReferenceTest {
    private static final List<String> EXPECTED = List.of("in.sqrt_ac", "in.sqrt_1m_ac", "in.noisy", "in.moments",
            "in.latents", "db.context", "db.noise", "db.snr_weight", "db.noisy", "db.eps.1", "db.loss.1", "db.gradnorm.1");

    @Test
    void update1MatchesTheReference() throws Exception {
        ReferenceCheck check = DreamBoothReference.checkUpdate1(TestData.sdTiny("model.ckpt"), TrainTestData.reference(),
                c -> System.out.println(c.line()));
        System.out.println(check.summary());
        String failed = check.checks().stream().filter(c -> !c.pass()).map(Check::line).collect(Collectors.joining("\n"));
        assertTrue(failed.isEmpty(), "failed checks:\n" + failed);
        assertEquals(EXPECTED, check.checks().stream().map(Check::name).toList(), "every update-1 quantity is compared");
        assertEquals(EXPECTED.size() + "/" + EXPECTED.size() + " checks pass", check.summary());
    }
}
