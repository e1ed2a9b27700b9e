package sdj.train.cd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdj.io.StateDicts;
import sdj.io.TestData;
import sdj.sd.DiffusersNames;
import sdj.sd.ModelConfigFiles;
import sdj.sd.ModelConfigs;
import sdj.sd.StableDiffusionModel;
import sdj.sd.clip.ClipTokenizer;
import sdj.tensor.Tensor;

/** Loading delta.ckpt (plain and compressed) into the sd-tiny model: weights, token id and embedding row. */
class DeltaApplicationTest {
    @TempDir
    Path tmp;

    @Test
    void plainAndCompressedDeltasSetTheReferenceWeightsAndToken() throws IOException {
        ModelConfigs configs = ModelConfigFiles.read(Path.of("../models/sd-tiny.json"));
        DeltaFiles files = new DeltaFiles(DiffusersNames.of(configs));
        CustomDiffusionDelta delta = files.read(CdTestData.file("delta.ckpt"));
        Path compressedFile = tmp.resolve("compressed.ckpt");
        new DeltaFileWriter(files.keys()).writeCompVis(compressedFile, DeltaCompression.compress(delta, CdTestData.base()));
        Map<String, Tensor> ref = CdTestData.reference();
        for (boolean compressed : new boolean[] {false, true}) {
            StableDiffusionModel model = StableDiffusionModel.fromStateDict(StateDicts.load(CdTestData.baseCheckpoint()),
                    configs, "model.ckpt");
            ClipTokenizer tok = ClipTokenizer.load(TestData.shared().resolve("data/clip/bpe_simple_vocab_16e6.txt.gz"));
            DeltaApplication.apply(model, tok, compressed ? files.read(compressedFile) : delta, "delta");
            assertEquals(49408, tok.encode("<new1>")[0]);
            assertArrayEquals(ref.get("cd.after.2.embed").toFloatArray(),
                    model.clip().addedTokenRows().tensor().toFloatArray());
            for (String key : delta.weights().keySet()) {
                float[] w = model.store().handles().get(key).tensor().toFloatArray();
                if (compressed) {
                    assertTrue(CdTestData.within(w, ref.get("svd.weight." + key).toFloatArray(), 1e-4), key);
                } else {
                    assertArrayEquals(ref.get("cd.after.2." + key).toFloatArray(), w, key);
                }
            }
        }
    }
}
