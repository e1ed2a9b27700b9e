package sdj.train.cd;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import sdj.io.Json;
import sdj.io.SafeTensors;
import sdj.io.StateDicts;
import sdj.sd.DiffusersNames;
import sdj.sd.ModelConfigFiles;
import sdj.sd.ModelConfigs;
import sdj.sd.clip.ClipTokenizer;
import sdj.sd.verify.Check;
import sdj.tensor.Tensor;
import sdj.train.JsonValues;
import sdj.train.ReferenceCheck;

/**
 * Checks the delta tools against a training reference (sd-tiny-train README sections B and C), one line per
 * tensor: {@code svd.rank.<key>} (exact) and {@code svd.weight.<key>} (1e-4·max|b|) from compressing
 * {@code delta.ckpt}; {@code merge.embed}, {@code merge.c_reg}, {@code merge.c_target}, {@code merge.target_concept}
 * from our text encoder; {@code merge.<key>} stage-wise from the stored features (1e-5·max|b|) and
 * {@code merge.<key>·c_regᵀ} end to end (W·C_regᵀ of our merge within 1e-3·max|b|). Prompts, caption file and
 * compression ratio come from the reference's hyperparameters, so a variant folder of the same layout works.
 */
public final class CustomDiffusionToolsReference {
    static final String FIRST_DELTA = "delta.ckpt";
    static final String SECOND_DELTA = "delta2.ckpt";
    private static final Check.Tolerance SVD_WEIGHT = new Check.Tolerance(0, 1e-4);
    private static final Check.Tolerance MERGE_STAGEWISE = new Check.Tolerance(0, 1e-5);
    private static final Check.Tolerance MERGE_OUTPUTS = new Check.Tolerance(0, 1e-3);
    private static final Pattern AFTER_TOKEN = Pattern.compile("<[^>]+>\\s*(.*)$");

    private CustomDiffusionToolsReference() {
    }

    /** All svd.* and merge.* checks for the reference file {@code reference} (its folder holds the deltas). */
    public static ReferenceCheck check(Path checkpoint, Path reference, ClipTokenizer tokenizer, Consumer<Check> onCheck)
            throws IOException {
        ReferenceCheck check = new ReferenceCheck(SafeTensors.open(reference).tensors(), reference.toString(), onCheck);
        check(check, checkpoint, reference, tokenizer);
        return check;
    }

    /** Adds the checks to {@code check} (e.g. after the training checks of the same reference). */
    public static void check(ReferenceCheck check, Path checkpoint, Path reference, ClipTokenizer tokenizer)
            throws IOException {
        Map<String, String> metadata = SafeTensors.open(reference).metadata();
        String hyperJson = metadata.get("hyperparameters");
        if (hyperJson == null) {
            throw new IllegalArgumentException(reference + " has no 'hyperparameters' entry in its __metadata__;"
                    + " it is not a training reference (sd-tiny-train layout)");
        }
        String origin = reference.toString();
        Map<String, Object> hyper = Json.parseObject(hyperJson);
        ModelConfigs configs = ModelConfigFiles.fromMetadata(metadata, origin);
        Path folder = reference.toAbsolutePath().getParent();
        Map<String, Tensor> base = StateDicts.load(checkpoint);
        DeltaFiles files = new DeltaFiles(DiffusersNames.of(configs));
        CustomDiffusionDelta first = files.read(existing(folder.resolve(FIRST_DELTA)));
        CustomDiffusionDelta second = files.read(existing(folder.resolve(SECOND_DELTA)));

        double ratio = JsonValues.number(JsonValues.object(hyper, "svd", origin), "compression_ratio", origin);
        checkCompression(check, DeltaCompression.compress(first, base, ratio), base);

        Map<String, Object> merge = JsonValues.object(hyper, "merge", origin);
        Map<String, Object> prompts = JsonValues.object(hyper, "prompts", origin);
        Object captionFile = merge.get("reg_captions");
        if (!(captionFile instanceof String name)) {
            throw new IllegalArgumentException(origin + ": hyperparameters 'merge' has no 'reg_captions' file name");
        }
        List<String> captions = Files.readAllLines(existing(folder.resolve(name)));
        List<String> categories = List.of(category(prompts, "cd_instance", origin), category(prompts, "cd2_instance",
                origin));
        checkMerge(check, base, configs, origin, tokenizer, List.of(first, second), categories, captions);
    }

    private static void checkCompression(ReferenceCheck check, CustomDiffusionDelta compressed, Map<String, Tensor> base) {
        Map<String, Tensor> full = compressed.fullWeights(base);
        compressed.lowRank().forEach((key, low) -> {
            check.compare("svd.rank." + key, new float[] {low.rank()}, ReferenceCheck.EXACT);
            check.compare("svd.weight." + key, full.get(key), SVD_WEIGHT);
        });
    }

    private static void checkMerge(ReferenceCheck check, Map<String, Tensor> base, ModelConfigs configs, String origin,
            ClipTokenizer tokenizer, List<CustomDiffusionDelta> deltas, List<String> categories, List<String> captions) {
        CustomDiffusionMerge.Result ours = CustomDiffusionMerge.merge(base, configs, origin, tokenizer, deltas,
                categories, captions);
        check.compare("merge.embed", ours.delta().embed(), ReferenceCheck.EXACT);
        check.compare("merge.c_reg", ours.cReg(), ReferenceCheck.FORWARD);
        check.compare("merge.c_target", ours.targets().rows(), ReferenceCheck.FORWARD);
        int[] concept = ours.targets().concept();
        float[] labels = new float[concept.length];
        for (int i = 0; i < concept.length; i++) {
            labels[i] = concept[i] + 1;
        }
        check.compare("merge.target_concept", labels, ReferenceCheck.EXACT);

        // stage-wise: step 4 from the stored features, so the solve is checked apart from the text encoder
        float[] cReg = check.expected("merge.c_reg").toFloatArray();
        long[] stored = check.expected("merge.target_concept").toLongArray();
        int[] storedConcept = new int[stored.length];
        for (int i = 0; i < stored.length; i++) {
            storedConcept[i] = (int) stored[i] - 1;
        }
        int width = check.expected("merge.c_reg").size(1);
        ConceptMerge solver = new ConceptMerge(cReg, check.expected("merge.c_target").toFloatArray(), storedConcept,
                width);
        List<Map<String, Tensor>> fineTuned = new ArrayList<>();
        deltas.forEach(d -> fineTuned.add(d.fullWeights(base)));
        List<String> keys = new ArrayList<>(ours.delta().weights().keySet());
        Map<String, Tensor> stageWise = solver.merge(keys, base, fineTuned);
        for (String key : keys) {
            check.compare("merge." + key, stageWise.get(key), MERGE_STAGEWISE);
        }
        // end to end: the README's criterion on the layer outputs W·C_regᵀ (the weights themselves are ill-conditioned)
        for (String key : keys) {
            float[] expected = timesTransposed(check.expected("merge." + key).toFloatArray(), cReg, width);
            float[] actual = timesTransposed(ours.delta().weights().get(key).toFloatArray(), cReg, width);
            check.add(Check.compare("merge." + key + "·c_regᵀ", actual, expected, MERGE_OUTPUTS));
        }
    }

    /** The concept text after the modifier token of an instance prompt: "photo of a &lt;new1&gt; cat" → "cat". */
    static String category(Map<String, Object> prompts, String key, String origin) {
        Object p = prompts.get(key);
        Matcher m = p instanceof String s ? AFTER_TOKEN.matcher(s) : null;
        if (m == null || !m.find() || m.group(1).isBlank()) {
            throw new IllegalArgumentException(origin + ": hyperparameters prompts '" + key + "' must be an instance"
                    + " prompt with a modifier token and a category, like \"photo of a <new1> cat\"; found " + p);
        }
        return m.group(1).trim();
    }

    /** W [C,w] · Cᵀ with C [n,w] → [C,n], accumulated in double. */
    static float[] timesTransposed(float[] w, float[] c, int width) {
        int rows = w.length / width;
        int n = c.length / width;
        float[] out = new float[rows * n];
        for (int i = 0; i < rows; i++) {
            for (int r = 0; r < n; r++) {
                double s = 0;
                for (int j = 0; j < width; j++) {
                    s += (double) w[i * width + j] * c[r * width + j];
                }
                out[i * n + r] = (float) s;
            }
        }
        return out;
    }

    private static Path existing(Path p) throws IOException {
        if (!Files.isRegularFile(p)) {
            throw new IOException(p + " is missing; a training reference folder holds " + FIRST_DELTA + ", "
                    + SECOND_DELTA + " and the regularization captions next to its reference file");
        }
        return p;
    }
}
