package sdj.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import sdj.io.Json;
import sdj.io.SafeTensors;
import sdj.sd.unet.UNetConfig;

/** The structurally zero-gradient tensors against the list the sd-tiny-train README (section E) gives. */
class NoiseTensorsTest {
    /** Copied from shared/testdata/sd-tiny-train/README.md, section E, "Noise tensors (19 tensors …)". */
    private static final List<String> README_LIST = List.of(
            "model.diffusion_model.input_blocks.1.0.emb_layers.1.bias",
            "model.diffusion_model.input_blocks.1.0.emb_layers.1.weight",
            "model.diffusion_model.input_blocks.1.0.in_layers.2.bias",
            "model.diffusion_model.input_blocks.2.0.emb_layers.1.bias",
            "model.diffusion_model.input_blocks.2.0.emb_layers.1.weight",
            "model.diffusion_model.input_blocks.2.0.in_layers.2.bias",
            "model.diffusion_model.output_blocks.10.0.emb_layers.1.bias",
            "model.diffusion_model.output_blocks.10.0.emb_layers.1.weight",
            "model.diffusion_model.output_blocks.10.0.in_layers.2.bias",
            "model.diffusion_model.output_blocks.11.0.emb_layers.1.bias",
            "model.diffusion_model.output_blocks.11.0.emb_layers.1.weight",
            "model.diffusion_model.output_blocks.11.0.in_layers.2.bias",
            "model.diffusion_model.output_blocks.11.0.out_layers.3.bias",
            "model.diffusion_model.output_blocks.11.0.skip_connection.bias",
            "model.diffusion_model.output_blocks.11.1.proj_out.bias",
            "model.diffusion_model.output_blocks.11.1.transformer_blocks.0.ff.net.2.bias",
            "model.diffusion_model.output_blocks.9.0.emb_layers.1.bias",
            "model.diffusion_model.output_blocks.9.0.emb_layers.1.weight",
            "model.diffusion_model.output_blocks.9.0.in_layers.2.bias");

    @Test
    void theTinyUNetsListIsTheReadmes() throws Exception {
        Map<String, String> metadata = SafeTensors.open(TrainTestData.reference()).metadata();
        UNetConfig tiny = UNetConfig.fromMap(Json.parseObject(metadata.get("unet")));
        assertEquals(README_LIST, NoiseTensors.of(tiny));
    }

    @Test
    void sdV1HasNone() {
        // 320·mult channels in 32 groups: 10 or more channels per group, only the group sums vanish (README E)
        assertEquals(List.of(), NoiseTensors.of(UNetConfig.SD_V1));
    }

    @Test
    void oneChannelPerGroupAtEveryLevelStopsAtResamplingAndConcatenation() {
        // 32 channels at both levels, one res block, no attention outside the middle block: every GroupNorm that
        // follows a ResBlock's or the middle transformer's output is per channel, but the 3×3 Downsample/Upsample
        // convs and the 64-channel skip concatenations keep constants alive; only the final out.0 removes them.
        UNetConfig flat = new UNetConfig(4, 4, 32, new int[] {}, 1, new int[] {1, 1}, 8, -1, 1, 64);
        TreeSet<String> expected = new TreeSet<>();
        for (String block : List.of("input_blocks.1.0", "input_blocks.3.0", "middle_block.0", "middle_block.2",
                "output_blocks.0.0", "output_blocks.1.0", "output_blocks.2.0", "output_blocks.3.0")) {
            for (String tensor : List.of("in_layers.2.bias", "emb_layers.1.weight", "emb_layers.1.bias")) {
                expected.add("model.diffusion_model." + block + "." + tensor);
            }
        }
        expected.add("model.diffusion_model.output_blocks.3.0.out_layers.3.bias");
        expected.add("model.diffusion_model.output_blocks.3.0.skip_connection.bias"); // 64 → 32: a 1×1 conv
        assertEquals(expected, new TreeSet<>(NoiseTensors.of(flat)));
    }
}
