package sdj.train.cd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdj.io.SafeTensors;
import sdj.io.TorchCheckpoint;
import sdj.sd.DiffusersNames;
import sdj.sd.ModelConfigs;
import sdj.tensor.Tensor;

/** Reading the reference delta.ckpt, and the compressed, adobe-diffusers and diffusers layouts written and read back. */
class DeltaFilesTest {
    private static final String K = "model.diffusion_model.output_blocks.5.1.transformer_blocks.0.attn2.to_k.weight";
    private static final DiffusersNames NAMES = DiffusersNames.of(ModelConfigs.SD_V1);

    @TempDir
    Path tmp;

    @Test
    void readsTheReferenceDeltaAsTrainingLeftIt() throws IOException {
        CustomDiffusionDelta delta = new DeltaFiles(NAMES).read(CdTestData.file("delta.ckpt"));
        Map<String, Tensor> ref = CdTestData.reference();
        assertEquals(32, delta.weights().size());
        assertFalse(delta.compressed());
        assertEquals(List.of("<new1>"), delta.tokens());
        assertArrayEquals(ref.get("cd.after.2.embed").toFloatArray(), delta.embed().toFloatArray());
        for (String key : delta.weights().keySet()) {
            assertArrayEquals(ref.get("cd.after.2." + key).toFloatArray(), delta.weights().get(key).toFloatArray(), key);
        }
    }

    @Test
    void processorKeysMapToLdmKeysBothWays() {
        CrossAttentionKeys keys = new CrossAttentionKeys(NAMES);
        String processor = "up_blocks.1.attentions.2.transformer_blocks.0.attn2.processor.to_k_custom_diffusion.weight";
        assertEquals(K, keys.fromProcessorKey(processor));
        assertEquals(processor, keys.toProcessorKey(K));
        assertEquals("model.diffusion_model.input_blocks.8.1.transformer_blocks.0.attn2.to_out.0.bias",
                keys.fromProcessorKey("down_blocks.2.attentions.1.transformer_blocks.0.attn2.processor"
                        + ".to_out_custom_diffusion.0.bias"));
        assertEquals("mid_block.attentions.0.transformer_blocks.0.attn2.to_v.weight",
                keys.toParameterName("model.diffusion_model.middle_block.1.transformer_blocks.0.attn2.to_v.weight"));
        assertNull(keys.fromProcessorKey("down_blocks.0.attentions.0.transformer_blocks.0.attn1.processor"));
    }

    @Test
    void compressedCompVisLayoutHoldsUvPairsAndRebuildsTheReferenceWeights() throws IOException {
        DeltaFiles files = new DeltaFiles(NAMES);
        CustomDiffusionDelta delta = files.read(CdTestData.file("delta.ckpt"));
        Path out = tmp.resolve("compressed_delta.ckpt");
        new DeltaFileWriter(files.keys()).writeCompVis(out, DeltaCompression.compress(delta, CdTestData.base()));

        // compress.py's layout: state_dict/<key> = {'u': [C,r], 'v': [r,64]}, state_dict/embed = [1,64]
        Map<?, ?> sd = (Map<?, ?>) ((Map<?, ?>) TorchCheckpoint.open(out).root()).get("state_dict");
        Map<?, ?> pair = assertInstanceOf(Map.class, sd.get(K));
        assertEquals(new TreeSet<>(List.of("u", "v")), new TreeSet<>(pair.keySet().stream().map(String::valueOf).toList()));
        assertInstanceOf(Tensor.class, sd.get("embed"));

        CustomDiffusionDelta back = files.read(out);
        assertTrue(back.compressed());
        assertEquals(32, back.lowRank().size());
        assertEquals(List.of("<new1>"), back.tokens());
        Map<String, Tensor> ref = CdTestData.reference();
        Map<String, Tensor> full = back.fullWeights(CdTestData.base());
        for (String key : back.lowRank().keySet()) {
            assertEquals(ref.get("svd.rank." + key).toLongArray()[0], back.lowRank().get(key).rank(), key);
            assertTrue(CdTestData.within(full.get(key).toFloatArray(), ref.get("svd.weight." + key).toFloatArray(),
                    1e-4), key);
        }
    }

    @Test
    void diffusersFolderRoundTripsWithProcessorKeysAndATokenFile() throws IOException {
        DeltaFiles files = new DeltaFiles(NAMES);
        CustomDiffusionDelta delta = files.read(CdTestData.file("delta.ckpt"));
        Path folder = tmp.resolve("out");
        new DeltaFileWriter(files.keys()).writeDiffusers(folder, delta);

        SafeTensors weights = SafeTensors.open(folder.resolve("pytorch_custom_diffusion_weights.safetensors"));
        assertEquals(Map.of("format", "pt"), weights.metadata());
        assertTrue(weights.tensors().containsKey(
                "up_blocks.1.attentions.2.transformer_blocks.0.attn2.processor.to_k_custom_diffusion.weight"));
        SafeTensors token = SafeTensors.open(folder.resolve("<new1>.safetensors"));
        assertArrayEquals(new int[] {64}, token.tensors().get("<new1>").shape());

        for (Path p : List.of(folder, folder.resolve("pytorch_custom_diffusion_weights.safetensors"))) {
            CustomDiffusionDelta back = files.read(p);
            assertEquals(delta.weights().keySet(), back.weights().keySet());
            assertArrayEquals(delta.weights().get(K).toFloatArray(), back.weights().get(K).toFloatArray());
            assertEquals(List.of("<new1>"), back.tokens());
            assertArrayEquals(delta.embed().toFloatArray(), back.embed().toFloatArray());
        }
    }

    @Test
    void adobeDiffusersLayoutRoundTripsCompressed() throws IOException {
        DeltaFiles files = new DeltaFiles(NAMES);
        CustomDiffusionDelta compressed = DeltaCompression.compress(files.read(CdTestData.file("delta2.ckpt")),
                CdTestData.base());
        Path out = tmp.resolve("delta.bin");
        new DeltaFileWriter(files.keys()).writeAdobeDiffusers(out, compressed);
        Map<?, ?> root = (Map<?, ?>) TorchCheckpoint.open(out).root();
        assertTrue(((Map<?, ?>) root.get("unet")).containsKey("up_blocks.1.attentions.2.transformer_blocks.0.attn2.to_k.weight"));
        assertEquals(List.of("<new1>"), List.copyOf(((Map<?, ?>) root.get("modifier_token")).keySet()));

        CustomDiffusionDelta back = files.read(out);
        assertEquals(compressed.lowRank().keySet(), back.lowRank().keySet());
        assertArrayEquals(compressed.lowRank().get(K).u().toFloatArray(), back.lowRank().get(K).u().toFloatArray());
        assertArrayEquals(compressed.embed().toFloatArray(), back.embed().toFloatArray());
    }

    @Test
    void diffusersBinWeightsWithEmptyProcessorEntriesAndABinTokenFile() throws IOException {
        CustomDiffusionDelta delta = new DeltaFiles(NAMES).read(CdTestData.file("delta.ckpt"));
        CrossAttentionKeys keys = new CrossAttentionKeys(NAMES);
        java.util.Map<String, Object> bin = new java.util.LinkedHashMap<>();
        bin.put("down_blocks.0.attentions.0.transformer_blocks.0.attn1.processor", java.util.Map.of());
        delta.weights().forEach((k, w) -> bin.put(keys.toProcessorKey(k), w));
        Path folder = Files.createDirectory(tmp.resolve("run"));
        sdj.io.TorchCheckpointWriter.write(folder.resolve("pytorch_custom_diffusion_weights.bin"), bin);
        sdj.io.TorchCheckpointWriter.write(folder.resolve("<new1>.bin"), java.util.Map.of("<new1>",
                DeltaFileWriter.row(delta.embed(), 0)));
        CustomDiffusionDelta back = new DeltaFiles(NAMES).read(folder);
        assertEquals(delta.weights().keySet(), back.weights().keySet());
        assertArrayEquals(delta.weights().get(K).toFloatArray(), back.weights().get(K).toFloatArray());
        assertEquals(List.of("<new1>"), back.tokens());
        assertArrayEquals(delta.embed().toFloatArray(), back.embed().toFloatArray());
    }

    @Test
    void aFileThatIsNoDeltaIsRejectedByName() throws IOException {
        Path other = tmp.resolve("x.safetensors");
        SafeTensors.write(other, Map.of("first_stage_model.encoder.conv_in.weight", Tensor.zeros(2, 2)), Map.of());
        IOException e = assertThrows(IOException.class, () -> new DeltaFiles(NAMES).read(other));
        assertTrue(e.getMessage().contains("first_stage_model.encoder.conv_in.weight"), e.getMessage());
    }
}
