package sdj.train.run;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import sdj.io.AtomicFile;
import sdj.io.Json;
import sdj.io.SafeTensors;
import sdj.sd.DiffusersConfigs;
import sdj.sd.DiffusersLayout;
import sdj.sd.DiffusersLayout.Component;
import sdj.sd.ModelConfigs;
import sdj.sd.clip.BpeVocabulary;
import sdj.sd.clip.HuggingFaceTokenizerFiles;
import sdj.tensor.Tensor;

/**
 * The fine-tuned model as a diffusers {@code StableDiffusionPipeline} folder: {@code model_index.json};
 * {@code unet/}, {@code vae/} (each {@code config.json} + {@code diffusion_pytorch_model.safetensors}),
 * {@code text_encoder/} ({@code config.json} + {@code model.safetensors}), {@code scheduler/scheduler_config.json}
 * and {@code tokenizer/} (vocab.json, merges.txt and transformers' two tokenizer configs, written from the run's
 * CLIP vocabulary). Tensors keep the base checkpoint's dtypes; the names and the VAE attention's shapes are
 * {@link DiffusersLayout}'s, the configs {@link DiffusersConfigs}' (no safety checker or feature extractor). CLIP's
 * int64 {@code position_ids} buffer is kept, as the SD v1 diffusers repositories have it (newer transformers skip it
 * on load). The LDM schedule buffers are not written: {@code scheduler/} describes the same schedule. The
 * folder is written as {@code .NAME.partial} beside it and renamed when complete, replacing an older one.
 */
public final class DiffusersExport {
    static final String MODEL_INDEX = "model_index.json";
    static final String CONFIG = "config.json";

    private DiffusersExport() {
    }

    /**
     * Writes {@code stateDict} (a whole model in the CompVis layout, e.g. {@link ModelExport#merge}'s result) as a
     * diffusers folder. {@code resolution}: the image size it was trained at (the configs' sample sizes);
     * {@code vocabulary}: the CLIP vocabulary for {@code tokenizer/}.
     */
    public static void write(Path folder, Map<String, Tensor> stateDict, ModelConfigs configs, int resolution,
            BpeVocabulary vocabulary) throws IOException {
        // the float scale's shortest decimal (0.18215), not its double widening (0.18215000629…)
        double scale = Double.parseDouble(Float.toString(configs.scaleFactor()));
        Map<String, Object> vaeConfig = DiffusersConfigs.vae(configs.vae(), resolution, scale);
        Map<Component, Map<String, Tensor>> components = DiffusersLayout.of(configs).toDiffusers(stateDict);
        Path target = folder.toAbsolutePath().normalize();
        Files.createDirectories(target.getParent());
        Path partial = target.resolveSibling("." + target.getFileName() + ".partial");
        CheckpointFolders.deleteTree(partial);
        boolean done = false;
        try {
            json(partial.resolve(MODEL_INDEX), DiffusersConfigs.modelIndex());
            for (Component c : Component.values()) {
                Path dir = Files.createDirectories(partial.resolve(c.folder));
                SafeTensors.write(dir.resolve(c.weightsFile), components.get(c), Map.of("format", "pt"));
            }
            json(partial.resolve("unet").resolve(CONFIG), DiffusersConfigs.unet(configs.unet(), resolution / 8));
            json(partial.resolve("vae").resolve(CONFIG), vaeConfig);
            json(partial.resolve("text_encoder").resolve(CONFIG), DiffusersConfigs.textEncoder(configs.clip()));
            Path scheduler = Files.createDirectories(partial.resolve("scheduler"));
            json(scheduler.resolve("scheduler_config.json"), DiffusersConfigs.scheduler());
            Path tokenizer = Files.createDirectories(partial.resolve("tokenizer"));
            HuggingFaceTokenizerFiles.write(vocabulary, tokenizer);
            json(tokenizer.resolve("tokenizer_config.json"), DiffusersConfigs.tokenizerConfig());
            json(tokenizer.resolve("special_tokens_map.json"), DiffusersConfigs.specialTokensMap());
            CheckpointFolders.deleteTree(target);
            try {
                Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(partial, target);
            }
            done = true;
        } finally {
            if (!done) {
                CheckpointFolders.deleteTree(partial);
            }
        }
    }

    private static void json(Path file, Map<String, Object> value) throws IOException {
        AtomicFile.write(file, (Json.write(value) + "\n").getBytes(StandardCharsets.UTF_8));
    }
}
