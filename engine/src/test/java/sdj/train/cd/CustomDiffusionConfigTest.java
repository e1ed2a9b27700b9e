package sdj.train.cd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdj.io.TestData;
import sdj.sd.clip.ClipTokenizer;
import sdj.train.run.TrainConfig;

/** adobe's defaults, diffusers' initializer ids (TRAINING-FACTS §2.2), the concepts list and bad input. */
class CustomDiffusionConfigTest {
    @Test
    void defaultsAreAdobes() {
        TrainConfig c = CustomDiffusionConfig.defaults();
        assertEquals(1e-5, c.learningRate());
        assertTrue(c.scaleLr());
        assertEquals(2e-5, c.effectiveLearningRate(), 1e-20, "scaled by batch 2");
        assertEquals(0.01, c.adamWeightDecay());
        assertEquals(250, c.maxTrainSteps());
        assertTrue(c.centerCrop() && c.randomFlip());
        assertTrue(c.maxGradNorm() > 1e300, "no clipping");
    }

    @Test
    void initializerTokensAreVocabularyEntriesAsDiffusersReadsThem() throws Exception {
        ClipTokenizer tok = ClipTokenizer.load(TestData.shared().resolve("data/clip/bpe_simple_vocab_16e6.txt.gz"));
        assertEquals(42170, CustomDiffusionConfig.initializerId(tok, "ktn"));
        assertEquals(47629, CustomDiffusionConfig.initializerId(tok, "pll"));
        assertEquals(44746, CustomDiffusionConfig.initializerId(tok, "ucd"));
        assertEquals(1481, CustomDiffusionConfig.initializerId(tok, "cat"), "the piece 'cat', as convert_tokens_to_ids");
        assertEquals(2368, CustomDiffusionConfig.initializerId(tok, "cat</w>"), "the word 'cat'");
        assertEquals(123, CustomDiffusionConfig.initializerId(tok, "123"), "an id as is");
        var e = assertThrows(IllegalArgumentException.class, () -> CustomDiffusionConfig.initializerId(tok, "sks dog"));
        assertTrue(e.getMessage().contains("'sks dog' is not one vocabulary token"), e.getMessage());
        assertEquals(List.of("<new1>", "<new2>"), CustomDiffusionConfig.splitPlus("<new1>+<new2>"));
    }

    @Test
    void conceptsListResolvesFoldersBesideTheFile(@TempDir Path tmp) throws Exception {
        Path file = tmp.resolve("concepts.json");
        Files.writeString(file, "[{\"instance_prompt\": \"photo of a <new1> cat\", \"class_prompt\": \"cat\","
                + " \"instance_data_dir\": \"cat\", \"class_data_dir\": \"real_reg/samples_cat\"},"
                + " {\"instance_prompt\": \"photo of a <new2> dog\", \"instance_data_dir\": \"/abs/dog\"}]");
        var concepts = CustomDiffusionConfig.readConceptsList(file);
        assertEquals(2, concepts.size());
        assertEquals(tmp.resolve("cat"), concepts.get(0).instanceDir());
        assertEquals(tmp.resolve("real_reg/samples_cat"), concepts.get(0).classDir());
        assertEquals(Path.of("/abs/dog"), concepts.get(1).instanceDir());
        assertNull(concepts.get(1).classDir());
        Files.writeString(file, "[{\"instance_prompt\": \"x\"}]");
        var e = assertThrows(IllegalArgumentException.class, () -> CustomDiffusionConfig.readConceptsList(file));
        assertTrue(e.getMessage().contains("concept 1 needs the strings instance_prompt and instance_data_dir"),
                e.getMessage());
    }
}
