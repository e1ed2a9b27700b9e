package sdj.train.cd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdj.io.SafeTensors;
import sdj.io.StateDicts;
import sdj.io.TestData;
import sdj.io.TorchCheckpoint;
import sdj.sd.DiffusersNames;
import sdj.sd.ModelConfigs;
import sdj.tensor.Tensor;

/**
 * A training result ({@link CustomDiffusionDelta#trained}) written by {@link DeltaFileWriter}: delta.ckpt in adobe's
 * layout (against the reference file's structure) and diffusers' processor files.
 */
class TrainedDeltaTest {
    private static final Path DIR = TestData.shared().resolve("testdata/sd-tiny-train");
    private static final CrossAttentionKeys KEYS = new CrossAttentionKeys(DiffusersNames.of(ModelConfigs.SD_V1));
    private static final DeltaFileWriter WRITER = new DeltaFileWriter(KEYS);

    @Test
    void compVisDeltaHasTheReferenceFilesKeysShapesAndDtypes(@TempDir Path tmp) throws Exception {
        Map<String, Tensor> ref = StateDicts.load(DIR.resolve("delta.ckpt"));
        Map<String, Tensor> trained = new LinkedHashMap<>();
        // the trainer's order (any) must not matter: trained() sorts as get_deltas' state dict is
        ref.keySet().stream().filter(k -> !k.equals("embed")).sorted((a, b) -> b.compareTo(a))
                .forEach(k -> trained.put(k, ref.get(k)));
        Path out = tmp.resolve("delta.ckpt");
        WRITER.writeCompVis(out,
                CustomDiffusionDelta.trained(trained, List.of("<new1>"), ref.get("embed")).keysAndValues());

        Object root = TorchCheckpoint.open(out).root();
        Object refRoot = TorchCheckpoint.open(DIR.resolve("delta.ckpt")).root();
        assertEquals(((Map<?, ?>) refRoot).keySet(), ((Map<?, ?>) root).keySet(), "top level: only 'state_dict'");
        Map<String, Tensor> ours = StateDicts.load(out);
        assertEquals(List.copyOf(ref.keySet()), List.copyOf(ours.keySet()), "the same keys in the same order");
        for (String k : ref.keySet()) {
            assertArrayEquals(ref.get(k).shape(), ours.get(k).shape(), k);
            assertEquals(ref.get(k).dtype(), ours.get(k).dtype(), k);
            assertArrayEquals(ref.get(k).toFloatArray(), ours.get(k).toFloatArray(), 0f, k);
        }
    }

    /** crossattn trains q and out too: adobe's get_deltas keeps only k/v, diffusers' processor file has all four. */
    @Test
    void compVisKeepsOnlyKeysAndValuesWhileDiffusersKeepsEveryTrainedWeight(@TempDir Path tmp) throws Exception {
        Map<String, Tensor> base = CdTestData.base();
        Map<String, Tensor> trained = new LinkedHashMap<>();
        base.keySet().stream().filter(FreezeModel.CROSSATTN.trains()).forEach(k -> trained.put(k, base.get(k)));
        CustomDiffusionDelta delta = CustomDiffusionDelta.trained(trained, List.of("<new1>"),
                StateDicts.load(DIR.resolve("delta.ckpt")).get("embed"));
        WRITER.writeCompVis(tmp.resolve("delta.ckpt"), delta.keysAndValues());
        WRITER.writeDiffusers(tmp, delta);
        Map<String, Tensor> compVis = StateDicts.load(tmp.resolve("delta.ckpt"));
        assertEquals(33, compVis.size(), "16 attn2 to_k + 16 to_v weights and embed");
        String q = "model.diffusion_model.middle_block.1.transformer_blocks.0.attn2.to_q.weight";
        assertNull(compVis.get(q));
        Map<String, Tensor> processors = SafeTensors.open(tmp.resolve(DeltaFiles.DIFFUSERS_FILE)).tensors();
        assertEquals(trained.size(), processors.size());
        String outBias = "mid_block.attentions.0.transformer_blocks.0.attn2.processor.to_out_custom_diffusion.0.bias";
        assertArrayEquals(base.get("model.diffusion_model.middle_block.1.transformer_blocks.0.attn2.to_out.0.bias")
                .toFloatArray(), processors.get(outBias).toFloatArray(), 0f);
    }

    @Test
    void diffusersLayoutNamesEveryProcessorWeight(@TempDir Path tmp) throws Exception {
        Map<String, Tensor> ref = StateDicts.load(DIR.resolve("delta.ckpt"));
        Map<String, Tensor> trained = new LinkedHashMap<>(ref);
        trained.remove("embed");
        WRITER.writeDiffusers(tmp, CustomDiffusionDelta.trained(trained, List.of("<new1>"), ref.get("embed")));
        SafeTensors weights = SafeTensors.open(tmp.resolve(DeltaFiles.DIFFUSERS_FILE));
        assertEquals(32, weights.tensors().size());
        assertEquals("pt", weights.metadata().get("format"));
        String k = "down_blocks.1.attentions.0.transformer_blocks.0.attn2.processor.to_k_custom_diffusion.weight";
        assertArrayEquals(ref.get("model.diffusion_model.input_blocks.4.1.transformer_blocks.0.attn2.to_k.weight")
                .toFloatArray(), weights.tensors().get(k).toFloatArray(), 0f);
        SafeTensors token = SafeTensors.open(tmp.resolve("<new1>.safetensors"));
        assertArrayEquals(new int[] {64}, token.tensors().get("<new1>").shape());
        assertArrayEquals(ref.get("embed").toFloatArray(), token.tensors().get("<new1>").toFloatArray(), 0f);
    }

    /** The delta reader ({@link DeltaFiles}) reads both layouts we write back to the same weights and token rows. */
    @Test
    void theDeltaReaderReadsBothLayoutsBack(@TempDir Path tmp) throws Exception {
        Map<String, Tensor> ref = StateDicts.load(DIR.resolve("delta.ckpt"));
        Map<String, Tensor> trained = new LinkedHashMap<>(ref);
        Tensor embed = trained.remove("embed");
        CustomDiffusionDelta delta = CustomDiffusionDelta.trained(trained, List.of("<new1>"), embed);
        WRITER.writeCompVis(tmp.resolve("delta.ckpt"), delta.keysAndValues());
        WRITER.writeDiffusers(tmp, delta);
        DeltaFiles files = new DeltaFiles(sdj.sd.DiffusersNames.of(
                sdj.sd.ModelConfigFiles.read(Path.of("../models/sd-tiny.json"))));
        for (Path source : List.of(tmp.resolve("delta.ckpt"), tmp.resolve(DeltaFiles.DIFFUSERS_FILE))) {
            CustomDiffusionDelta back = files.read(source);
            assertEquals(List.of("<new1>"), back.tokens(), source.toString());
            assertArrayEquals(embed.toFloatArray(), back.embed().toFloatArray(), 0f, source.toString());
            assertEquals(trained.keySet(), back.weights().keySet(), source.toString());
            for (String k : trained.keySet()) {
                assertArrayEquals(trained.get(k).toFloatArray(), back.weights().get(k).toFloatArray(), 0f, k);
            }
        }
    }

    @Test
    void ldmNamesMapToDiffusersBlocks(@TempDir Path tmp) {
        assertEquals("up_blocks.3.attentions.2.transformer_blocks.0.attn2.processor.to_v_custom_diffusion.weight",
                KEYS.toProcessorKey("model.diffusion_model.output_blocks.11.1.transformer_blocks.0.attn2.to_v.weight"));
        assertEquals("mid_block.attentions.0.transformer_blocks.0.attn2.processor.to_out_custom_diffusion.0.bias",
                KEYS.toProcessorKey("model.diffusion_model.middle_block.1.transformer_blocks.0.attn2.to_out.0.bias"));
        assertEquals("down_blocks.0.attentions.1.transformer_blocks.0.attn2.processor.to_q_custom_diffusion.weight",
                KEYS.toProcessorKey("model.diffusion_model.input_blocks.2.1.transformer_blocks.0.attn2.to_q.weight"));
        // a delta holds only attention projections; anything else has no processor name and is refused
        String projIn = "model.diffusion_model.input_blocks.1.1.proj_in.weight";
        CustomDiffusionDelta notADelta = CustomDiffusionDelta.trained(Map.of(projIn, Tensor.zeros(4, 4)), List.of(), null);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> WRITER.writeDiffusers(tmp, notADelta));
        assertEquals("'" + projIn + "' has no diffusers processor name", e.getMessage());
    }
}
