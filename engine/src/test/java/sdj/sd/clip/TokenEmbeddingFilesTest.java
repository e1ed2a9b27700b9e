package sdj.sd.clip;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdj.io.SafeTensors;
import sdj.io.StateDicts;
import sdj.io.TestData;
import sdj.io.TorchCheckpointWriter;
import sdj.sd.ModelConfigFiles;
import sdj.sd.StableDiffusionModel;
import sdj.tensor.Autograd;
import sdj.tensor.Tensor;

/**
 * Embedding files in the A1111, diffusers and plain-tensor forms, and their installation: a token whose vectors are
 * copies of vocabulary rows gives exactly the context of those words.
 */
class TokenEmbeddingFilesTest {
    @TempDir
    Path tmp;

    private static Tensor values(int n, int w, float start) {
        float[] v = new float[n * w];
        for (int i = 0; i < v.length; i++) {
            v[i] = start + i;
        }
        return n == 1 ? Tensor.of(v, w) : Tensor.of(v, n, w);
    }

    @Test
    void readsEveryFormWithItsPromptWord() throws IOException {
        Map<String, Object> a1111 = new LinkedHashMap<>();
        a1111.put("string_to_token", Map.of("*", Tensor.ofLongs(new long[] {265}, 1)));
        a1111.put("string_to_param", Map.of("*", values(2, 4, 0)));
        a1111.put("name", "some-name");
        a1111.put("step", 3000);
        TorchCheckpointWriter.write(tmp.resolve("style-a.pt"), a1111);
        TorchCheckpointWriter.write(tmp.resolve("learned_embeds.bin"), Map.of("<cat-toy>", values(1, 4, 10)));
        SafeTensors.write(tmp.resolve("<new1>.safetensors"), Map.of("<new1>", values(1, 4, 20)), Map.of("format", "pt"));
        SafeTensors.write(tmp.resolve("emb.safetensors"), Map.of("emb_params", values(3, 4, 30)), Map.of());
        TorchCheckpointWriter.write(tmp.resolve("plain.pt"), values(1, 4, 40));
        Files.writeString(tmp.resolve("notes.txt"), "not an embedding");

        List<TokenEmbeddingFiles.TokenEmbedding> all = TokenEmbeddingFiles.read(tmp);
        assertEquals(List.of("<new1>", "emb", "<cat-toy>", "plain", "style-a"),
                all.stream().map(TokenEmbeddingFiles.TokenEmbedding::token).toList(), "sorted by file name");
        assertArrayEquals(new int[] {1, 4}, all.get(0).vectors().shape());
        assertArrayEquals(new float[] {20, 21, 22, 23}, all.get(0).vectors().toFloatArray());
        assertArrayEquals(new int[] {3, 4}, all.get(1).vectors().shape());
        assertEquals(10f, all.get(2).vectors().toFloatArray()[0]);
        assertEquals(40f, all.get(3).vectors().toFloatArray()[0]);
        assertArrayEquals(new int[] {2, 4}, all.get(4).vectors().shape());
        assertEquals(7f, all.get(4).vectors().toFloatArray()[7]);
    }

    @Test
    void aFileOfSeveralTensorsIsRejectedByName() throws IOException {
        Path sdxl = tmp.resolve("x.safetensors");
        SafeTensors.write(sdxl, Map.of("clip_l", values(1, 4, 0), "clip_g", values(1, 8, 0)), Map.of());
        IOException e = assertThrows(IOException.class, () -> TokenEmbeddingFiles.read(sdxl));
        assertTrue(e.getMessage().contains("holds 2 tensors"), e.getMessage());
    }

    @Test
    void aTwoVectorTokenGivesTheContextOfTheTwoWordsItCopies() throws IOException {
        StableDiffusionModel model = StableDiffusionModel.fromStateDict(StateDicts.load(TestData.sdTiny("model.ckpt")),
                ModelConfigFiles.read(Path.of("../models/sd-tiny.json")), "model.ckpt");
        ClipTokenizer tok = ClipTokenizer.load(SharedTestData.clipMerges());
        int[] photoCat = tok.encode("photo cat"); // two BPE ids
        assertEquals(2, photoCat.length);
        float[] table = model.clip().tokenEmbedding().toFloatArray();
        int w = model.clip().config().width();
        float[] rows = new float[2 * w];
        System.arraycopy(table, photoCat[0] * w, rows, 0, w);
        System.arraycopy(table, photoCat[1] * w, rows, w, w);
        TokenEmbeddingInstaller.install(tok, model.clip(), "<pc>", Tensor.of(rows, 2, w), "test");
        assertEquals(49410, tok.vocabSize());
        try (var g = Autograd.noGrad()) {
            float[] viaToken = context(model, tok, "a <pc> on a mat");
            float[] viaWords = context(model, tok, "a photo cat on a mat");
            assertArrayEquals(viaWords, viaToken, 0f);
        }
        IllegalArgumentException again = assertThrows(IllegalArgumentException.class,
                () -> TokenEmbeddingInstaller.install(tok, model.clip(), "<pc>", Tensor.of(rows, 2, w), "second.pt"));
        assertTrue(again.getMessage().startsWith("second.pt: token '<pc>' is already loaded"), again.getMessage());
        IllegalArgumentException wide = assertThrows(IllegalArgumentException.class,
                () -> TokenEmbeddingInstaller.install(tok, model.clip(), "<sd>", Tensor.zeros(1, 768), "sd.pt"));
        assertTrue(wide.getMessage().contains("this text encoder is 64 wide"), wide.getMessage());
    }

    private static float[] context(StableDiffusionModel model, ClipTokenizer tok, String prompt) {
        int[] ids = tok.encode77(prompt);
        long[] l = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            l[i] = ids[i];
        }
        return model.clip().forward(Tensor.ofLongs(l, 1, 77)).toFloatArray();
    }
}
