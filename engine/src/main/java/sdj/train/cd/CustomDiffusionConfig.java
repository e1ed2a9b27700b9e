package sdj.train.cd;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import sdj.io.Json;
import sdj.sd.clip.ClipTokenizer;
import sdj.train.data.CustomDiffusionData.Concept;
import sdj.train.run.TrainConfig;

/**
 * A Custom Diffusion run: the shared {@link TrainConfig} (paths, steps, optimizer, checkpoints, validation) plus
 * what only this method has: the concepts (one from the TrainConfig's instance/class fields, or a concepts list),
 * the modifier tokens and the vocabulary tokens their rows start from, which attn2 weights train, whether instance
 * images get adobe's scale augmentation, and the delta layout to save ({@code compvis}, {@code diffusers},
 * {@code both}).
 */
public record CustomDiffusionConfig(TrainConfig train, List<Concept> concepts, List<String> modifierTokens,
        List<String> initializerTokens, FreezeModel freezeModel, boolean augment, String saveFormat) {
    public static final List<String> SAVE_FORMATS = List.of("compvis", "diffusers", "both");
    /** adobe trains without clipping; the trainer's clip never engages at this norm (JSON has no infinity). */
    public static final double NO_CLIPPING = Double.MAX_VALUE;

    public CustomDiffusionConfig {
        concepts = List.copyOf(concepts);
        modifierTokens = List.copyOf(modifierTokens);
        initializerTokens = List.copyOf(initializerTokens);
        if (modifierTokens.isEmpty()) {
            throw new IllegalArgumentException("Custom Diffusion needs at least one modifier token, e.g."
                    + " --modifier-token \"<new1>\"");
        }
        if (initializerTokens.size() < modifierTokens.size()) {
            throw new IllegalArgumentException(modifierTokens.size() + " modifier tokens need as many initializer"
                    + " tokens, got " + initializerTokens.size() + "; e.g. --initializer-token ktn+pll");
        }
        if (!SAVE_FORMATS.contains(saveFormat)) {
            throw new IllegalArgumentException("the delta format must be compvis, diffusers or both, got '" + saveFormat
                    + "'");
        }
        if (concepts.isEmpty()) {
            throw new IllegalArgumentException("Custom Diffusion needs a concept: an instance image folder and prompt,"
                    + " or a concepts list");
        }
    }

    /** adobe's settings (TRAINING-FACTS §1.5, SPEC "Decisions") over diffusers' other defaults. */
    public static TrainConfig defaults() {
        return TrainConfig.defaults().with(Map.of("learningRate", 1e-5, "scaleLr", true, "adamWeightDecay", 1e-2,
                "maxGradNorm", NO_CLIPPING, "maxTrainSteps", 250, "trainBatchSize", 2, "centerCrop", true,
                "randomFlip", true, "numClassImages", 200, "outputDir", "custom-diffusion-model"));
    }

    /** "&lt;new1&gt;+&lt;new2&gt;" → its tokens. */
    public static List<String> splitPlus(String value) {
        List<String> out = new ArrayList<>();
        for (String part : value.split("\\+")) {
            if (!part.isBlank()) {
                out.add(part.strip());
            }
        }
        return out;
    }

    /** One concept from the TrainConfig's instance and class fields (class images only with prior preservation). */
    public static Concept singleConcept(TrainConfig c) {
        boolean prior = c.withPriorPreservation();
        return new Concept(Path.of(c.instanceDataDir()), c.instancePrompt(),
                prior ? Path.of(c.classDataDir()) : null, prior ? c.classPrompt() : null);
    }

    /**
     * diffusers' and adobe's {@code concepts_list.json}: a list of objects with instance_prompt, class_prompt,
     * instance_data_dir and class_data_dir (the class entries optional); relative folders are taken from the file's.
     */
    public static List<Concept> readConceptsList(Path file) throws IOException {
        Object parsed = Json.parse(Files.readString(file));
        if (!(parsed instanceof List<?> list) || list.isEmpty()) {
            throw new IllegalArgumentException(file + " must hold a non-empty JSON list of concepts (instance_prompt,"
                    + " class_prompt, instance_data_dir, class_data_dir)");
        }
        Path base = file.toAbsolutePath().getParent();
        List<Concept> out = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            if (!(list.get(i) instanceof Map<?, ?> m) || !(m.get("instance_prompt") instanceof String ip)
                    || !(m.get("instance_data_dir") instanceof String id)) {
                throw new IllegalArgumentException(file + ": concept " + (i + 1) + " needs the strings instance_prompt"
                        + " and instance_data_dir");
            }
            Object cd = m.get("class_data_dir");
            Object cp = m.get("class_prompt");
            out.add(new Concept(base.resolve(id), ip, cd instanceof String s ? base.resolve(s) : null,
                    cp instanceof String s ? s : null));
        }
        return out;
    }

    /**
     * The vocabulary id of an initializer token: a number as is, a raw vocabulary entry ("ktn" = 42170, as diffusers'
     * convert_tokens_to_ids), else a word that encodes to a single token.
     */
    public static int initializerId(ClipTokenizer tokenizer, String token) {
        if (token.matches("\\d+")) {
            return Integer.parseInt(token);
        }
        int id = tokenizer.vocabularyId(token);
        if (id >= 0) {
            return id;
        }
        int[] ids = tokenizer.encode(token);
        if (ids.length != 1) {
            throw new IllegalArgumentException("initializer token '" + token + "' is not one vocabulary token (it"
                    + " encodes to " + ids.length + "); pick a token of the CLIP vocabulary such as ktn, pll or ucd");
        }
        return ids[0];
    }
}
