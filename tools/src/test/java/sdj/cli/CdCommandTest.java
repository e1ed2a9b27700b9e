package sdj.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdj.io.SafeTensors;
import sdj.io.TorchCheckpoint;
import sdj.tensor.Tensor;

/** `sdj cd compress|merge|export-lora` on the sd-tiny-train deltas, compared with the reference tensors. */
class CdCommandTest {
    private static final Path TRAIN = Path.of(System.getProperty("sdj.shared", "../../shared"), "testdata", "sd-tiny-train");
    private static final String KEY = "model.diffusion_model.output_blocks.5.1.transformer_blocks.0.attn2.to_k.weight";

    @TempDir
    Path dir;

    private static String base() {
        return IoCommandsTest.sdTiny("model.ckpt").toString();
    }

    private static Map<String, Tensor> reference() throws Exception {
        return SafeTensors.open(TRAIN.resolve("train-reference.safetensors")).tensors();
    }

    @Test
    void compressWritesAdobesUvLayout() throws Exception {
        Path out = dir.resolve("compressed_delta.ckpt");
        CliRun r = CliRun.sdj("cd", "compress", TRAIN.resolve("delta.ckpt").toString(), "--base", base(), "--out",
                out.toString());
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("32 weights as u·v (ranks 5..16)"), r.out());
        Map<?, ?> sd = (Map<?, ?>) ((Map<?, ?>) TorchCheckpoint.open(out).root()).get("state_dict");
        Tensor v = (Tensor) ((Map<?, ?>) sd.get(KEY)).get("v");
        assertEquals(reference().get("svd.rank." + KEY).toLongArray()[0], v.size(0));
    }

    @Test
    void mergeMatchesTheReferenceOnTheRegularizationFeatures() throws Exception {
        Path out = dir.resolve("merged.ckpt");
        CliRun r = CliRun.sdj("cd", "merge", "--base", base(), "--delta", TRAIN.resolve("delta.ckpt").toString(),
                "--delta", TRAIN.resolve("delta2.ckpt").toString(), "--categories", "cat+dog", "--reg-captions",
                TRAIN.resolve("reg_captions.txt").toString(), "--out", out.toString(), "--config",
                "../models/sd-tiny.json", "--vocab", "../models/clip/bpe_simple_vocab_16e6.txt.gz");
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("tokens [<new1>, <new2>], 153 regularization rows, 15 target rows"), r.out());
        Map<String, Tensor> sd = TorchCheckpoint.open(out).stateDict();
        assertEquals(33, sd.size(), "32 weights + embed");
        Map<String, Tensor> ref = reference();
        float[] expected = ref.get("merge." + KEY).toFloatArray();
        float[] got = sd.get(KEY).toFloatArray();
        double maxErr = 0;
        double maxRef = 0;
        for (int i = 0; i < got.length; i++) {
            maxErr = Math.max(maxErr, Math.abs(got[i] - expected[i]));
            maxRef = Math.max(maxRef, Math.abs(expected[i]));
        }
        assertTrue(maxErr <= 1e-2 * maxRef, "end to end " + maxErr / maxRef);
        assertEquals(ref.get("merge.embed").toFloatArray()[5], sd.get("embed").toFloatArray()[5]);
    }

    @Test
    void mergeWithoutCaptionsSaysWhatToPass() {
        CliRun r = CliRun.sdj("cd", "merge", "--base", base(), "--delta", TRAIN.resolve("delta.ckpt").toString(),
                "--delta", TRAIN.resolve("delta2.ckpt").toString(), "--categories", "cat+dog", "--out",
                dir.resolve("m.ckpt").toString());
        assertEquals(1, r.status());
        assertTrue(r.err().contains("merge needs --reg-captions FILE"), r.err());
    }

    @Test
    void exportLoraWritesKohyaModulesAndTheEmbedding() throws Exception {
        Path out = dir.resolve("cd-lora.safetensors");
        CliRun r = CliRun.sdj("cd", "export-lora", TRAIN.resolve("delta.ckpt").toString(), "--base", base(), "--out",
                out.toString());
        assertEquals(0, r.status(), r.err());
        Map<String, Tensor> t = SafeTensors.open(out).tensors();
        assertEquals(32 * 3, t.size());
        assertTrue(t.containsKey("lora_unet_up_blocks_1_attentions_2_transformer_blocks_0_attn2_to_k.alpha"));
        assertTrue(Files.isRegularFile(dir.resolve("<new1>.safetensors")));
    }
}
