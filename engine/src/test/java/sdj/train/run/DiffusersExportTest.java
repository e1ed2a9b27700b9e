package sdj.train.run;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdj.io.Json;
import sdj.io.SafeTensors;
import sdj.io.StateDicts;
import sdj.io.TestData;
import sdj.sd.DiffusersLayout;
import sdj.sd.DiffusersLayout.Component;
import sdj.sd.ModelConfigFiles;
import sdj.sd.ModelConfigs;
import sdj.sd.clip.BpeVocabulary;
import sdj.sd.clip.ClipTokenizer;
import sdj.tensor.Tensor;

/** sd-tiny written as a diffusers folder: its files re-read give the same tensors, its configs sd-tiny's sizes. */
class DiffusersExportTest {
    private static final Path VOCAB = Path.of("../models/clip/bpe_simple_vocab_16e6.txt.gz");

    @TempDir
    Path dir;

    @Test
    void theFolderHoldsEveryWeightBitExactWithConfigsOfTheModelsSizes() throws IOException {
        Map<String, Tensor> tiny = StateDicts.load(TestData.sdTiny("model.ckpt"));
        ModelConfigs configs = ModelConfigFiles.read(Path.of("../models/sd-tiny.json"));
        Path out = dir.resolve("diffusers");
        Files.createDirectories(out.resolve("old-file-dir")); // an older folder is replaced whole
        DiffusersExport.write(out, tiny, configs, 64, BpeVocabulary.load(VOCAB));

        assertEquals(List.of("model_index.json", "scheduler", "text_encoder", "tokenizer", "unet", "vae"), names(out));
        assertFalse(Files.exists(dir.resolve(".diffusers.partial")));
        DiffusersLayout layout = DiffusersLayout.of(configs);
        int tensors = 0;
        for (Component c : Component.values()) {
            Map<String, Tensor> file = SafeTensors.open(out.resolve(c.folder).resolve(c.weightsFile)).tensors();
            for (Map.Entry<String, Tensor> e : file.entrySet()) {
                Tensor original = tiny.get(layout.toLdm(new DiffusersLayout.Key(c, e.getKey())));
                Tensor saved = e.getValue();
                assertEquals(original.dtype(), saved.dtype(), e.getKey());
                assertEquals(original.numel(), saved.numel(), e.getKey());
                if (original.dtype() == sdj.tensor.DType.I64) {
                    continue; // position_ids: compared as the key's presence
                }
                assertArrayEquals(original.toFloatArray(), saved.toFloatArray(), c + " " + e.getKey());
                tensors++;
            }
        }
        assertEquals(tiny.size() - 12 - 1, tensors); // all but the 12 schedule buffers and position_ids (int64)
        assertArrayEquals(new int[] {128, 128}, SafeTensors.open(out.resolve("vae/diffusion_pytorch_model.safetensors"))
                .tensors().get("decoder.mid_block.attentions.0.to_v.weight").shape());

        Map<String, Object> unet = json(out.resolve("unet/config.json"));
        assertEquals(List.of(32L, 64L, 128L, 128L), unet.get("block_out_channels"));
        assertEquals(64L, unet.get("cross_attention_dim"));
        assertEquals(8L, unet.get("attention_head_dim")); // SD v1's configs put the head count here
        assertEquals(8L, unet.get("sample_size"));
        assertEquals(List.of("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
                unet.get("down_block_types"));
        assertEquals(List.of("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
                unet.get("up_block_types"));
        Map<String, Object> vae = json(out.resolve("vae/config.json"));
        assertEquals(List.of(32L, 64L, 128L, 128L), vae.get("block_out_channels"));
        assertEquals(4L, vae.get("latent_channels"));
        assertEquals(0.18215, vae.get("scaling_factor"));
        Map<String, Object> clip = json(out.resolve("text_encoder/config.json"));
        assertEquals(64L, clip.get("hidden_size"));
        assertEquals(2L, clip.get("num_hidden_layers"));
        assertEquals(4L, clip.get("num_attention_heads"));
        assertEquals((long) tiny.get("cond_stage_model.transformer.text_model.encoder.layers.0.mlp.fc1.weight").size(0),
                clip.get("intermediate_size"));
        Map<String, Object> scheduler = json(out.resolve("scheduler/scheduler_config.json"));
        assertEquals("scaled_linear", scheduler.get("beta_schedule"));
        assertEquals(0.00085, scheduler.get("beta_start"));
        assertEquals(0.012, scheduler.get("beta_end"));
        assertEquals(1000L, scheduler.get("num_train_timesteps"));
        assertEquals(List.of("diffusers", "UNet2DConditionModel"), json(out.resolve("model_index.json")).get("unet"));

        // the tokenizer folder reads back as the same vocabulary
        ClipTokenizer original = ClipTokenizer.load(VOCAB);
        ClipTokenizer written = new ClipTokenizer(BpeVocabulary.load(out.resolve("tokenizer")));
        String prompt = "a photo of sks dog, résumé-style";
        assertArrayEquals(original.encode77(prompt), written.encode77(prompt));
        assertEquals(49408, json(out.resolve("tokenizer/vocab.json")).size());
        assertEquals(BpeVocabulary.CLIP_MERGE_COUNT + 1, Files.readAllLines(out.resolve("tokenizer/merges.txt")).size());
    }

    private static Map<String, Object> json(Path file) throws IOException {
        return Json.parseObject(Files.readString(file));
    }

    private static List<String> names(Path folder) throws IOException {
        try (Stream<Path> s = Files.list(folder)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
