package sdj.train.cd;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Consumer;
import sdj.io.Json;
import sdj.io.SafeTensors;
import sdj.io.StateDicts;
import sdj.nn.Parameter;
import sdj.sd.ModelConfigFiles;
import sdj.sd.ModelConfigs;
import sdj.sd.StableDiffusionModel;
import sdj.sd.verify.Check;
import sdj.tensor.Autograd;
import sdj.tensor.DType;
import sdj.tensor.Device;
import sdj.tensor.Tensor;
import sdj.train.FragileWeightCheck;
import sdj.train.JsonValues;
import sdj.train.Latents;
import sdj.train.NoiseSchedule;
import sdj.train.ReferenceCheck;
import sdj.train.optim.AdamW;
import sdj.train.optim.GradClip;
import sdj.train.optim.ParamGroup;

/**
 * Replays a training reference's Custom Diffusion runs (sd-tiny-train README sections A and A2) from the base
 * checkpoint and compares them, one check per tensor: {@code cd.*} (concept 1 on {@code in.latents},
 * {@code in.ids}) and {@code cd2.*} (concept 2 on {@code cd2.latents}, {@code cd2.ids}, whose latents are also
 * recomputed from the horizontally flipped instance pixels). Each run: the token table extended by the
 * {@code new_token_init} rows, the added rows the prompts use and the 32 attn2 k/v weights trained, the start
 * token's key/value detached in cross-attention, the masked loss, AdamW for {@code steps} updates on the same
 * batch. Everything comes from the file and its {@code hyperparameters}.
 */
public final class CustomDiffusionReference {
    /** README "Tolerances": fragile elements (|g1| < 1e-4·max|g1|) within 3·lr, the others 1e-4·max|b|. */
    static final double FRAGILE_GRADIENT = 1e-4;
    static final double FRAGILE_LR_MULTIPLE = 3;
    static final double WEIGHT_REL = 1e-4;

    private final Path checkpoint;
    private final ModelConfigs configs;
    private final ReferenceCheck check;
    private final NoiseSchedule schedule;
    private final float latentScale;
    private final CustomDiffusionHyperparameters hp;

    private CustomDiffusionReference(Path checkpoint, ModelConfigs configs, ReferenceCheck check,
            Map<String, Object> hyper, String origin) {
        this.checkpoint = checkpoint;
        this.configs = configs;
        this.check = check;
        this.schedule = NoiseSchedule.fromJson(JsonValues.object(hyper, "schedule", origin), origin);
        this.latentScale = (float) JsonValues.number(hyper, "latent_scale_factor", origin);
        this.hp = CustomDiffusionHyperparameters.fromJson(JsonValues.object(hyper, "custom_diffusion", origin), origin);
    }

    /** Both concepts' runs on the CPU in fp32; {@code onCheck} sees each check as it is made. */
    public static ReferenceCheck check(Path checkpoint, Path reference, Consumer<Check> onCheck) throws IOException {
        SafeTensors ref = SafeTensors.open(reference);
        Map<String, String> metadata = ref.metadata();
        String hyper = metadata.get("hyperparameters");
        if (hyper == null) {
            throw new IllegalArgumentException(reference + " has no 'hyperparameters' entry in its __metadata__;"
                    + " it is not a training reference (sd-tiny-train layout)");
        }
        ModelConfigs configs = ModelConfigFiles.fromMetadata(metadata, reference.toString());
        ReferenceCheck check = new ReferenceCheck(ref.tensors(), reference.toString(), onCheck);
        CustomDiffusionReference run = new CustomDiffusionReference(checkpoint, configs, check, Json.parseObject(hyper),
                reference.toString());
        run.concept("cd", check.expected("in.latents"), check.expected("in.ids"));
        run.concept("cd2", run.secondConceptLatents(), check.expected("cd2.ids"));
        return check;
    }

    /** A2: instance pixels flipped (column x ↦ W−1−x), class pixels as they are, through the VAE; checked. */
    private Tensor secondConceptLatents() throws IOException {
        StableDiffusionModel model = load();
        Tensor pixels = check.expected("in.pixels");
        int instances = instanceCount(check.expected("cd2.ids"));
        Tensor flipped = flipInstances(pixels, instances);
        Tensor latents = Latents.encode(model.vae(), flipped, check.expected("in.vae_noise"), latentScale);
        check.compare("cd2.latents", latents, ReferenceCheck.FORWARD);
        return check.expected("cd2.latents"); // the stored latents, so VAE rounding does not leak into the updates
    }

    private static Tensor flipInstances(Tensor pixels, int instances) {
        int[] s = pixels.shape();
        float[] v = pixels.toFloatArray();
        int w = s[3];
        int rows = s[1] * s[2];
        for (int b = 0; b < instances; b++) {
            for (int r = 0; r < rows; r++) {
                int base = (b * rows + r) * w;
                for (int x = 0; x < w / 2; x++) {
                    float tmp = v[base + x];
                    v[base + x] = v[base + w - 1 - x];
                    v[base + w - 1 - x] = tmp;
                }
            }
        }
        return Tensor.of(v, s);
    }

    private StableDiffusionModel load() throws IOException {
        // a fresh state dict per run: on the CPU the model shares its tensors, and AdamW updates them in place
        return StableDiffusionModel.fromStateDict(StateDicts.load(checkpoint), configs, checkpoint.toString());
    }

    /** One concept's run: {@code steps} updates on the same batch, checking losses, update-1 gradients and weights. */
    private void concept(String prefix, Tensor latents, Tensor ids) throws IOException {
        StableDiffusionModel model = load();
        Parameter added = model.clip().addTokenRows(initialRows(model));
        added.trainable(true);
        FreezeModel.CROSSATTN_KV.parameters(model.store()).forEach(p -> p.trainable(true));
        List<Parameter> weights = FreezeModel.CROSSATTN_KV.parameters(model.store());
        model.unet().setDetachStartTokenKeyValue(true);
        int[] trainedRows = trainedRows(ids);
        long[] t = check.expected("in.t").toLongArray();
        Tensor noise = check.expected("in.noise");
        Tensor mask = check.expected("in.mask");
        MaskedLoss loss = new MaskedLoss(instanceCount(ids), hp.priorLossWeight());
        List<Parameter> trained = new ArrayList<>(weights);
        trained.add(added);
        AdamW adamw = new AdamW(List.of(new ParamGroup(trained, hp.lr(), hp.weightDecay())), hp.beta1(), hp.beta2(),
                hp.eps());
        Tensor noisy = schedule.addNoise(latents, noise, t);
        if (check.has(prefix + ".noisy")) {
            check.compare(prefix + ".noisy", noisy, ReferenceCheck.ELEMENTWISE);
        }
        float[] timesteps = new float[t.length];
        for (int i = 0; i < t.length; i++) {
            timesteps[i] = t[i];
        }
        for (int k = 1; k <= hp.steps(); k++) {
            Tensor context = model.clip().forward(ids);
            Tensor eps = model.unet().forward(noisy, timesteps, context);
            compareIfStored(prefix + ".context." + k, context, ReferenceCheck.FORWARD);
            compareIfStored(prefix + ".eps." + k, eps, ReferenceCheck.FORWARD);
            Tensor value = loss.compute(eps, noise, mask);
            compareIfStored(prefix + ".loss." + k, value.reshape(1), ReferenceCheck.SCALAR);
            value.backward();
            if (k == 1) {
                for (Parameter p : weights) {
                    check.compare(prefix + ".grad.1." + p.name(), p.tensor().grad(), ReferenceCheck.GRADIENT);
                }
                check.compare(prefix + ".grad.1.embed", rows(added.tensor().grad(), trainedRows), ReferenceCheck.GRADIENT);
            }
            if (!Double.isNaN(hp.maxGradNorm())) {
                GradClip.clipGradNorm(trained.stream().map(p -> p.tensor().grad()).toList(), hp.maxGradNorm());
            }
            adamw.step();
            trained.forEach(p -> p.tensor().zeroGrad());
        }
        String after = prefix + ".after." + hp.steps() + ".";
        for (Parameter p : weights) {
            compareWeights(prefix, after + p.name(), p.name(), p.tensor().toFloatArray());
        }
        compareWeights(prefix, after + "embed", "embed", rows(added.tensor(), trainedRows));
    }

    private void compareIfStored(String name, Tensor actual, Check.Tolerance tolerance) {
        if (check.has(name)) {
            check.compare(name, actual, tolerance);
        }
    }

    /** README "Tolerances": the fragile elements come from the stored update-1 gradient. */
    private void compareWeights(String prefix, String name, String key, float[] actual) {
        float[] expected = check.expected(name).toFloatArray();
        float[] grad = check.expected(prefix + ".grad.1." + key).toFloatArray();
        double maxGrad = 0;
        for (float g : grad) {
            maxGrad = Math.max(maxGrad, Math.abs(g));
        }
        List<Long> fragile = new ArrayList<>();
        for (int i = 0; i < grad.length; i++) {
            if (Math.abs(grad[i]) < FRAGILE_GRADIENT * maxGrad) {
                fragile.add((long) i);
            }
        }
        check.add(FragileWeightCheck.compare(name, actual, expected, fragile.stream().mapToLong(Long::longValue)
                .toArray(), false, FRAGILE_LR_MULTIPLE * hp.lr(), WEIGHT_REL));
    }

    private Tensor initialRows(StableDiffusionModel model) {
        int vocab = model.clip().tokenEmbedding().size(0);
        int expectedId = vocab;
        List<Integer> sources = new ArrayList<>();
        for (Map.Entry<Integer, Integer> e : hp.newTokenInit().entrySet()) {
            if (e.getKey() != expectedId++) {
                throw new IllegalArgumentException("new_token_init must number the added tokens " + vocab + ", "
                        + (vocab + 1) + ", … without gaps; found " + hp.newTokenInit().keySet());
            }
            sources.add(e.getValue());
        }
        return AddedTokens.copyRows(model.clip().tokenEmbedding(), sources.stream().mapToInt(Integer::intValue).toArray());
    }

    /** Indices into the added rows of the added ids the prompts use (the rows that train and are compared). */
    private int[] trainedRows(Tensor ids) {
        int first = hp.newTokenInit().firstKey();
        TreeSet<Integer> used = new TreeSet<>();
        for (long id : ids.toLongArray()) {
            if (id >= first) {
                used.add((int) (id - first));
            }
        }
        return used.stream().mapToInt(Integer::intValue).toArray();
    }

    /** The leading samples whose prompt holds an added token are instances; the rest are class images. */
    private int instanceCount(Tensor ids) {
        int first = hp.newTokenInit().firstKey();
        long[] v = ids.toLongArray();
        int n = ids.size(1);
        int count = 0;
        for (int b = 0; b < ids.size(0); b++) {
            boolean hasAdded = false;
            for (int i = 0; i < n; i++) {
                hasAdded |= v[b * n + i] >= first;
            }
            if (!hasAdded) {
                break;
            }
            count++;
        }
        return count;
    }

    private static float[] rows(Tensor table, int[] rows) {
        float[] all = table.to(Device.CPU, DType.F32).toFloatArray();
        int w = table.size(1);
        float[] out = new float[rows.length * w];
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(all, rows[i] * w, out, i * w, w);
        }
        return out;
    }
}
