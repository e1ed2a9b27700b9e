package sdj.train.cd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import sdj.io.TestData;
import sdj.sd.clip.ClipTokenizer;
import sdj.sd.verify.Check;
import sdj.train.ReferenceCheck;

/** The svd.* and merge.* check lines of the visible reference: every one present, every one passing. */
class CustomDiffusionToolsReferenceTest {
    @Test
    void everySvdAndMergeTensorIsCheckedAndPasses() throws IOException {
        ClipTokenizer tokenizer = ClipTokenizer.load(TestData.shared().resolve("data/clip/bpe_simple_vocab_16e6.txt.gz"));
        List<String> lines = new ArrayList<>();
        ReferenceCheck check = CustomDiffusionToolsReference.check(CdTestData.baseCheckpoint(),
                CdTestData.file("train-reference.safetensors"), tokenizer, c -> lines.add(c.line()));
        List<String> failed = check.checks().stream().filter(c -> !c.pass()).map(Check::line).toList();
        assertEquals(List.of(), failed);
        // 32 ranks + 32 weights; embed, c_reg, c_target, target_concept; 32 stage-wise + 32 end-to-end
        assertEquals(64 + 4 + 64, check.checks().size());
        long referenceTensors = CdTestData.reference().keySet().stream()
                .filter(k -> k.startsWith("svd.") || k.startsWith("merge.")).count();
        var named = check.checks().stream().map(Check::name).collect(Collectors.toSet());
        for (String k : CdTestData.reference().keySet()) {
            if (k.startsWith("svd.") || k.startsWith("merge.")) {
                assertTrue(named.contains(k), "no check line for " + k);
            }
        }
        assertEquals(64 + 36, referenceTensors);
        assertTrue(lines.get(0).startsWith("svd.rank.model.diffusion_model."), lines.get(0));
        assertEquals("132/132 checks pass", check.summary());
    }

    @Test
    void categoryIsTheTextAfterTheModifierToken() {
        assertEquals("cat", CustomDiffusionToolsReference.category(Map.of("p", "photo of a <new1> cat"), "p", "f"));
        assertEquals("red dog", CustomDiffusionToolsReference.category(Map.of("p", "<new2>  red dog"), "p", "f"));
        assertThrows(IllegalArgumentException.class,
                () -> CustomDiffusionToolsReference.category(Map.of("p", "photo of a cat"), "p", "f"));
    }
}
