package sdj.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdj.io.SafeTensors;
import sdj.tensor.Tensor;

/**
 * `sdj train lora`: the reference's LoRA run passes every check and a copy with another UNet lr fails from update
 * 2 on, update 1's gradients still passing (the hyperparameters are read, not assumed); one training step on sd-tiny,
 * LoRA settings given in the YAML config, writes a kohya file with the attention set's modules for UNet and text
 * encoder; bad LoRA flags are one sentence naming the flag.
 */
class TrainLoraCommandTest {
    private static final String VOCAB = "../models/clip/bpe_simple_vocab_16e6.txt.gz";
    private static final String MODEL_CONFIG = "../models/sd-tiny.json";

    @TempDir
    Path dir;

    @Test
    void theLoraReferenceRunPassesEveryCheck() {
        CliRun r = CliRun.sdj("train", "lora", "--reference", TrainCommandTest.trainReference().toString(), "--check");
        List<String> lines = r.out().lines().toList();
        assertEquals(0, r.status(), r.err() + lines.stream().filter(l -> l.endsWith("FAIL")).toList());
        // context, eps, 2 losses, 2 grad norms, 408 update-1 gradients, 408 adapters after update 2
        assertEquals("822/822 checks pass", lines.getLast());
        assertEquals(823, lines.size());
        for (String line : lines.subList(0, 822)) {
            assertTrue(line.matches("\\S+ \\d\\.\\d{3}e[-+]\\d+ \\d\\.\\d{3}e[-+]\\d+ PASS"), line);
        }
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("lora.gradnorm.2 ")));
        assertTrue(lines.stream().anyMatch(l -> l.startsWith(
                "lora.after.2.lora_te_text_model_encoder_layers_1_mlp_fc2.lora_up.weight ")));
        assertEquals("", r.err());
    }

    @Test
    void aCopyWithAnotherUnetLearningRateFailsAfterTheFirstUpdate() throws Exception {
        Path copy = Files.createDirectory(dir.resolve("sd-tiny-train"));
        Path ref = TrainCommandTest.trainReference();
        byte[] bytes = Files.readAllBytes(ref.resolve("train-reference.safetensors"));
        String from = "\\\"unet_lr\\\": 0.001,";
        String to = "\\\"unet_lr\\\": 0.003,"; // same length: the tensor offsets stay valid
        int headerEnd = 8 + (int) java.nio.ByteBuffer.wrap(bytes, 0, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
        String header = new String(bytes, 8, headerEnd - 8, StandardCharsets.UTF_8);
        assertTrue(header.contains(from) && header.indexOf(from) == header.lastIndexOf(from), "one LoRA unet_lr, 1e-3");
        byte[] changed = header.replace(from, to).getBytes(StandardCharsets.UTF_8);
        System.arraycopy(changed, 0, bytes, 8, changed.length);
        Files.write(copy.resolve("train-reference.safetensors"), bytes);

        CliRun r = CliRun.sdj("train", "lora", "--reference", copy.toString(), "--check", "--ckpt",
                ref.resolveSibling("sd-tiny/model.ckpt").toString());
        List<String> lines = r.out().lines().toList();
        assertEquals(1, r.status(), r.err());
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("lora.loss.1 ") && l.endsWith(" PASS")), r.out());
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("lora.loss.2 ") && l.endsWith(" FAIL")), r.out());
        assertTrue(lines.stream().noneMatch(l -> l.startsWith("lora.grad.1.") && l.endsWith(" FAIL")), r.out());
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("lora.after.2.lora_unet_") && l.endsWith(" FAIL")));
    }

    @Test
    void oneStepWritesAKohyaFileOfTheAttentionSet() throws Exception {
        Path train = TrainCommandTest.trainReference();
        Path instances = Files.createDirectories(dir.resolve("instances"));
        for (int i = 0; i < 2; i++) {
            Files.copy(train.resolve("instance_" + i + ".png"), instances.resolve("instance_" + i + ".png"));
        }
        Path out = dir.resolve("out");
        // LoRA settings in the config file (kohya's network_alpha among them) next to the shared ones
        Files.writeString(dir.resolve("lora.yaml"), """
                instance_prompt: a photo of sks dog
                resolution: 64
                train_batch_size: 1
                rank: 2
                network_alpha: 1
                lora_targets: attn
                unet_lr: 1.0e-3
                output_name: sks
                """);
        CliRun r = CliRun.sdj("train", "lora", "--ckpt", train.resolveSibling("sd-tiny/model.ckpt").toString(),
                "--model-config", MODEL_CONFIG, "--vocab", VOCAB, "--instance-data-dir", instances.toString(),
                "--config", dir.resolve("lora.yaml").toString(), "--max-train-steps", "1", "--seed", "7",
                "--output-dir", out.toString(), "--train-text-encoder");
        assertEquals(0, r.status(), r.err());
        Path file = out.resolve("sks.safetensors");
        assertTrue(r.out().contains("wrote " + file + " (the LoRA adapters, kohya format)"), r.out());
        SafeTensors st = SafeTensors.open(file);
        Map<String, Tensor> t = st.tensors();
        // attn1/attn2 q,k,v,out of 16 blocks + q,k,v,out of sd-tiny's 2 CLIP layers, 3 tensors each
        assertEquals(3 * (16 * 8 + 2 * 4), t.size());
        assertEquals(List.of(2, 32), List.of(t.get("lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q"
                + ".lora_down.weight").shape()[0], t.get("lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1"
                + "_to_q.lora_down.weight").shape()[1]));
        assertEquals(1f, t.get("lora_te_text_model_encoder_layers_1_self_attn_v_proj.alpha").item());
        assertEquals("2", st.metadata().get("ss_network_dim"));
        assertEquals("1.0", st.metadata().get("ss_network_alpha"));
        assertEquals("0.001", st.metadata().get("ss_unet_lr"));
        assertEquals("0.001", st.metadata().get("ss_text_encoder_lr"), "no --learning-rate: the run's lr is --unet-lr");
        assertTrue(Files.isRegularFile(out.resolve("loss.png")));
    }

    @Test
    void badLoraFlagsAreOneSentenceNamingTheFlag() {
        CliRun r = CliRun.sdj("train", "lora", "--ckpt", "x.ckpt", "--instance-data-dir", "d", "--instance-prompt", "p",
                "--vocab", VOCAB, "--rank", "0", "--save-format", "ckpt");
        assertEquals(2, r.status());
        assertEquals("sdj train: --rank 0 is not allowed; use 1 or more (4 to 128 are usual). --save-format 'ckpt' is"
                + " unknown; use kohya or diffusers.\n", r.err());
        CliRun t = CliRun.sdj("train", "lora", "--vocab", VOCAB, "--lora-targets", "mlp");
        assertEquals(2, t.status());
        assertTrue(t.err().startsWith("sdj train: --lora-targets 'mlp' are unknown; use 'kohya'"), t.err());
    }
}
