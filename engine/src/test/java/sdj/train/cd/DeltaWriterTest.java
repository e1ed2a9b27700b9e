package sdj.train.cd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
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
import sdj.tensor.Tensor;

/** delta.ckpt in adobe's layout (against the reference file's structure) and diffusers' processor files. */
class DeltaWriterTest {
    private static final Path DIR = TestData.shared().resolve("testdata/sd-tiny-train");

    @Test
    void compVisDeltaHasTheReferenceFilesKeysShapesAndDtypes(@TempDir Path tmp) throws Exception {
        Map<String, Tensor> ref = StateDicts.load(DIR.resolve("delta.ckpt"));
        Map<String, Tensor> trained = new LinkedHashMap<>();
        // the trainer's order (any) must not matter: the writer sorts as get_deltas' state dict is
        ref.keySet().stream().filter(k -> !k.equals("embed")).sorted((a, b) -> b.compareTo(a))
                .forEach(k -> trained.put(k, ref.get(k)));
        Path out = tmp.resolve("delta.ckpt");
        DeltaWriter.writeCompVis(out, trained, ref.get("embed"));

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

    @Test
    void diffusersLayoutNamesEveryProcessorWeight(@TempDir Path tmp) throws Exception {
        Map<String, Tensor> ref = StateDicts.load(DIR.resolve("delta.ckpt"));
        Map<String, Tensor> trained = new LinkedHashMap<>(ref);
        trained.remove("embed");
        DeltaWriter.writeDiffusers(tmp, trained, List.of("<new1>"), ref.get("embed"));
        SafeTensors weights = SafeTensors.open(tmp.resolve(DeltaWriter.DIFFUSERS_FILE));
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
        DeltaWriter.writeCompVis(tmp.resolve("delta.ckpt"), trained, embed);
        DeltaWriter.writeDiffusers(tmp, trained, List.of("<new1>"), embed);
        DeltaFiles files = new DeltaFiles(sdj.sd.DiffusersNames.of(
                sdj.sd.ModelConfigFiles.read(Path.of("../models/sd-tiny.json"))));
        for (Path source : List.of(tmp.resolve("delta.ckpt"), tmp.resolve(DeltaWriter.DIFFUSERS_FILE))) {
            CustomDiffusionDelta delta = files.read(source);
            assertEquals(List.of("<new1>"), delta.tokens(), source.toString());
            assertArrayEquals(embed.toFloatArray(), delta.embed().toFloatArray(), 0f, source.toString());
            assertEquals(trained.keySet(), delta.weights().keySet(), source.toString());
            for (String k : trained.keySet()) {
                assertArrayEquals(trained.get(k).toFloatArray(), delta.weights().get(k).toFloatArray(), 0f, k);
            }
        }
    }

    @Test
    void ldmNamesMapToDiffusersBlocks() {
        assertEquals("up_blocks.3.attentions.2.transformer_blocks.0.attn2.processor.to_v_custom_diffusion.weight",
                DeltaWriter.diffusersName("model.diffusion_model.output_blocks.11.1.transformer_blocks.0.attn2.to_v.weight"));
        assertEquals("mid_block.attentions.0.transformer_blocks.0.attn2.processor.to_out_custom_diffusion.0.bias",
                DeltaWriter.diffusersName("model.diffusion_model.middle_block.1.transformer_blocks.0.attn2.to_out.0.bias"));
        assertEquals("down_blocks.0.attentions.1.transformer_blocks.0.attn2.processor.to_q_custom_diffusion.weight",
                DeltaWriter.diffusersName("model.diffusion_model.input_blocks.2.1.transformer_blocks.0.attn2.to_q.weight"));
        assertThrows(IllegalArgumentException.class,
                () -> DeltaWriter.diffusersName("model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn1.to_k.weight"));
    }
}
