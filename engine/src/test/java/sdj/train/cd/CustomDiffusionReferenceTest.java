package sdj.train.cd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import sdj.io.TestData;
import sdj.sd.verify.Check;
import sdj.train.ReferenceCheck;

/** Both Custom Diffusion runs of sd-tiny-train (sections A and A2) against the reference, tensor by tensor. */
class CustomDiffusionReferenceTest {
    @Test
    void bothConceptsMatchTheReference() throws Exception {
        Path ref = TestData.shared().resolve("testdata/sd-tiny-train/train-reference.safetensors");
        ReferenceCheck check = CustomDiffusionReference.check(TestData.sdTiny("model.ckpt"), ref,
                c -> System.out.println(c.line()));
        System.out.println(check.summary());
        String failed = check.checks().stream().filter(c -> !c.pass()).map(Check::line).collect(Collectors.joining("\n"));
        assertTrue(failed.isEmpty(), "failed checks:\n" + failed);
        // cd: context, eps, 2 losses, 32 + 1 gradients, 32 + 1 weights; cd2: latents, noisy, 2 losses, 33 + 33
        assertEquals(140, check.checks().size(), "every compared tensor has a line");
        assertEquals(70, check.checks().stream().filter(c -> c.name().startsWith("cd.")).count());
        assertTrue(check.checks().stream().anyMatch(c -> c.name().equals("cd2.after.2.embed")));
        assertEquals("140/140 checks pass", check.summary());
    }
}
