package sdj.sd.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import sdj.io.TestData;
import sdj.sd.ModelConfigFiles;
import sdj.sd.ModelConfigs;
import sdj.sd.clip.ClipTokenizer;
import sdj.tensor.DType;
import sdj.tensor.Device;

/** The load that reads the CLIP vocabulary on another thread while the checkpoint is opened. */
class StableDiffusionLoadTest {
    private static final Path CKPT = TestData.sdTiny("model.ckpt");

    private static ModelConfigs tiny() throws Exception {
        return ModelConfigFiles.read(Path.of("../models/sd-tiny.json"));
    }

    @Test
    void theTokenizerReadBesideTheLoadIsTheOneThePipelineUses() throws Exception {
        ClipTokenizer tokenizer = ClipTokenizer.load(Path.of("../models/clip/bpe_simple_vocab_16e6.txt.gz"));
        StableDiffusion sd = StableDiffusion.load(CKPT, tiny(),
                StableDiffusion.tokenizerInBackground(() -> tokenizer), Device.CPU, DType.F32);
        assertSame(tokenizer, sd.tokenizer());
    }

    @Test
    void aVocabularyThatCannotBeReadFailsTheLoadWithItsOwnException() throws Exception {
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> StableDiffusion.load(CKPT, tiny(),
                StableDiffusion.tokenizerInBackground(() -> ClipTokenizer.load(Path.of("no/such/bpe_simple_vocab_16e6.txt.gz"))),
                Device.CPU, DType.F32));
        assertEquals("no/such/bpe_simple_vocab_16e6.txt.gz (no CLIP vocabulary there)", e.getMessage());
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> StableDiffusion.load(CKPT,
                tiny(), StableDiffusion.tokenizerInBackground(() -> {
                    throw new IllegalArgumentException("not a vocabulary");
                }), Device.CPU, DType.F32));
        assertEquals("not a vocabulary", bad.getMessage());
    }
}
