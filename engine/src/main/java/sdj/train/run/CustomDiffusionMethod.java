package sdj.train.run;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import sdj.io.StateDicts;
import sdj.nn.Parameter;
import sdj.random.TorchGenerator;
import sdj.sd.DiffusersNames;
import sdj.sd.ModelConfigFiles;
import sdj.sd.ModelConfigs;
import sdj.sd.StableDiffusionModel;
import sdj.sd.clip.ClipTextModel;
import sdj.sd.clip.ClipTokenizer;
import sdj.sd.pipeline.StableDiffusion;
import sdj.tensor.Autograd;
import sdj.tensor.DType;
import sdj.tensor.Device;
import sdj.tensor.Tensor;
import sdj.train.Latents;
import sdj.train.NoiseSchedule;
import sdj.train.cd.AddedTokens;
import sdj.train.cd.CrossAttentionKeys;
import sdj.train.cd.CustomDiffusionConfig;
import sdj.train.cd.CustomDiffusionDelta;
import sdj.train.cd.DeltaFileWriter;
import sdj.train.cd.MaskedLoss;
import sdj.train.data.CustomDiffusionData;
import sdj.train.data.CustomDiffusionData.CdBatch;
import sdj.train.data.DataPosition;
import sdj.train.optim.MixedPrecision;
import sdj.train.optim.ParamGroup;

/**
 * Custom Diffusion as adobe's CompVis code trains it (SPEC "Decisions"): the modifier tokens are added to the
 * tokenizer and their embedding rows (copies of the initializer tokens' rows) train with the attn2 k/v (or all attn2)
 * weights in one AdamW group; the start token's key/value are detached in cross-attention; batches come from
 * {@link CustomDiffusionData} (scale augmentation, latent masks, regularization images mixed in); the loss is
 * {@link MaskedLoss}; the result is a delta ({@link DeltaFileWriter}) in adobe's and/or diffusers' layout.
 */
public final class CustomDiffusionMethod implements TrainingMethod {
    private final CustomDiffusionConfig cd;
    private final StableDiffusionModel model;
    private final ClipTokenizer tokenizer;
    private final CustomDiffusionData data;
    private final List<Parameter> weights;
    private final Parameter tokenRows;
    private final double lr;
    private final double weightDecay;
    private final NoiseSchedule schedule = NoiseSchedule.sdV1();
    private static final String TOKEN_TABLE = ClipTextModel.PREFIX + ".embeddings.token_embedding.weight";

    private CustomDiffusionMethod(CustomDiffusionConfig cd, StableDiffusion pipeline, Map<String, Tensor> base)
            throws IOException {
        TrainConfig c = cd.train();
        this.cd = cd;
        this.model = pipeline.model();
        this.tokenizer = pipeline.tokenizer();
        this.tokenRows = addTokens(cd, model, tokenizer, base);
        model.store().setTrainable(cd.freezeModel().trains());
        this.weights = cd.freezeModel().parameters(model.store());
        tokenRows.trainable(true);
        model.unet().setDetachStartTokenKeyValue(true);
        this.data = CustomDiffusionData.open(cd.concepts(), c.resolution(), c.randomFlip(), cd.augment(),
                c.trainBatchSize(), c.seed());
        this.lr = c.effectiveLearningRate();
        this.weightDecay = c.adamWeightDecay();
    }

    /**
     * Opens the method for the trainer: {@code train} is the trainer's config (seed filled in), the rest comes from
     * {@code cd}; missing class images of each concept with prior preservation are drawn first with adobe's
     * sampler settings.
     */
    public static TrainingMethod open(CustomDiffusionConfig cd, TrainConfig train, StableDiffusion pipeline,
            ClassImages.Listener classImages) throws IOException {
        return open(cd, train, pipeline, null, classImages);
    }

    /** As above; {@code base}, the state dict the model was built from (or null), gives exact fp32 token rows. */
    public static TrainingMethod open(CustomDiffusionConfig cd, TrainConfig train, StableDiffusion pipeline,
            Map<String, Tensor> base, ClassImages.Listener classImages) throws IOException {
        CustomDiffusionConfig run = new CustomDiffusionConfig(train, cd.concepts(), cd.modifierTokens(),
                cd.initializerTokens(), cd.freezeModel(), cd.augment(), cd.saveFormat());
        if (train.withPriorPreservation()) {
            for (CustomDiffusionData.Concept concept : run.concepts()) {
                if (concept.classDir() != null && concept.classPrompt() != null
                        && !java.nio.file.Files.isRegularFile(concept.classDir().resolve("images.txt"))) {
                    Map<String, Object> one = new HashMap<>();
                    one.put("classDataDir", concept.classDir().toString());
                    one.put("classPrompt", concept.classPrompt());
                    ClassImages.fill(train.with(one), train.seed(), pipeline, classImages, ClassImages.Sampling.ADOBE);
                }
            }
        }
        return new CustomDiffusionMethod(run, pipeline, base);
    }

    /** A trainer for {@code cd}: loads the base checkpoint, its model config and the tokenizer the config names. */
    public static Trainer trainer(CustomDiffusionConfig cd, ClassImages.Listener classImages) throws IOException {
        return trainer(cd, Device.CPU, classImages);
    }

    /**
     * As above with the model on {@code device} (fp32, or the mixedPrecision dtype, which the cpu refuses before the
     * weights are read). The model is placed first, so the added token rows are created on the device
     * ({@link sdj.sd.clip.ClipTextModel#addTokenRows}); under mixed precision they and the attn2 weights train
     * through fp32 masters.
     */
    public static Trainer trainer(CustomDiffusionConfig cd, Device device, ClassImages.Listener classImages)
            throws IOException {
        TrainConfig c = cd.train().validated();
        MixedPrecision precision = MixedPrecision.parse(c.mixedPrecision());
        Trainer.requireDevice(precision, device);
        Path checkpoint = Path.of(c.pretrainedModelNameOrPath());
        Map<String, Tensor> stateDict = StateDicts.load(checkpoint);
        ModelConfigs configs = ModelConfigFiles.forCheckpoint(c.modelConfig(), checkpoint, ModelConfigs.SD_V1);
        StableDiffusionModel model = StableDiffusionModel.fromStateDict(stateDict, configs, checkpoint.toString(), device,
                precision.dtype());
        ClipTokenizer tokenizer = ClipTokenizer.load(Path.of(c.tokenizerName()));
        return new Trainer((train, pipeline, base) -> open(cd, train, pipeline, base, classImages), c, model, tokenizer,
                stateDict);
    }

    /**
     * Registers the modifier tokens and appends their starting rows; returns the parameter holding the rows. An
     * fp16/bf16 model's rows start their fp32 masters from {@code base}'s exact table (when given), not the rounded.
     */
    static Parameter addTokens(CustomDiffusionConfig cd, StableDiffusionModel model, ClipTokenizer tokenizer,
            Map<String, Tensor> base) {
        int vocab = model.clip().tokenEmbedding().size(0);
        int[] sources = new int[cd.modifierTokens().size()];
        for (int i = 0; i < sources.length; i++) {
            String token = cd.modifierTokens().get(i);
            int id = tokenizer.addToken(token);
            if (id != vocab + i) {
                throw new IllegalArgumentException("modifier token '" + token + "' got id " + id + " but the embedding"
                        + " table expects " + (vocab + i) + "; give each modifier token once, to a fresh tokenizer");
            }
            sources[i] = CustomDiffusionConfig.initializerId(tokenizer, cd.initializerTokens().get(i));
        }
        Tensor exactTable = base == null ? null : base.get(TOKEN_TABLE);
        Tensor rows = AddedTokens.copyRows(exactTable != null ? exactTable : model.clip().tokenEmbedding(), sources);
        Parameter added = model.clip().addTokenRows(rows); // copied onto the model's device in its dtype
        if (added.tensor().dtype() != DType.F32 && sources.length == added.shape()[0]) {
            added.startMasterFrom(rows);
        }
        return added;
    }

    @Override
    public List<ParamGroup> parameterGroups() {
        List<Parameter> all = new ArrayList<>(weights);
        all.add(tokenRows);
        return List.of(new ParamGroup(all, lr, weightDecay));
    }

    @Override
    public int batchesPerEpoch() {
        return data.batchesPerEpoch();
    }

    /**
     * VAE posterior sample × scale → latents; ε ~ N(0, 1); t ~ U{0…T−1} per sample (drawn in that order from
     * {@code g}); context of the captions with gradient (the token rows train); the masked loss.
     */
    @Override
    public Tensor loss(DataPosition position, TorchGenerator g) {
        CdBatch batch = data.batch(position);
        Tensor moments;
        try (var off = Autograd.noGrad()) { // the VAE is frozen
            moments = model.vae().encodeMoments(onModel(batch.pixels()));
        }
        int[] ms = moments.shape();
        Tensor latents = Latents.sample(moments, g.randn(ms[0], ms[1] / 2, ms[2], ms[3]), model.configs().scaleFactor());
        Tensor noise = onModel(g.randn(latents.shape()));
        long[] t = StepRandom.timesteps(g, ms[0], schedule.timesteps());
        float[] timesteps = new float[t.length];
        for (int i = 0; i < t.length; i++) {
            timesteps[i] = t[i];
        }
        Tensor noisy = schedule.addNoise(onModel(latents), noise, t);
        Tensor eps = model.unet().forward(noisy, timesteps, model.clip().forward(ids(batch.prompts())));
        return new MaskedLoss(batch.instances(), cd.train().priorLossWeight()).compute(eps, noise, batch.mask());
    }

    @Override
    public DataPosition next(DataPosition position) {
        return data.next(position);
    }

    /**
     * The delta: {@code file} in adobe's layout (compvis), diffusers' files in {@code file}'s folder (diffusers),
     * or both.
     */
    @Override
    public void save(Path file) throws IOException {
        Map<String, Tensor> trained = new LinkedHashMap<>();
        weights.forEach(p -> trained.put(p.name(), p.master())); // fp16/bf16 training: the fp32 masters, as DreamBooth
        CustomDiffusionDelta delta = CustomDiffusionDelta.trained(trained, cd.modifierTokens(), tokenRows.master());
        DeltaFileWriter writer = new DeltaFileWriter(new CrossAttentionKeys(DiffusersNames.of(model.configs())));
        if (!cd.saveFormat().equals("diffusers")) {
            writer.writeCompVis(file, delta.keysAndValues());
        }
        if (!cd.saveFormat().equals("compvis")) {
            writer.writeDiffusers(file.toAbsolutePath().getParent(), delta);
        }
    }

    private Tensor ids(List<String> prompts) {
        int n = prompts.size();
        long[] ids = new long[n * ClipTokenizer.CONTEXT_LENGTH];
        for (int i = 0; i < n; i++) {
            int[] row = tokenizer.encode77(prompts.get(i));
            for (int j = 0; j < row.length; j++) {
                ids[i * ClipTokenizer.CONTEXT_LENGTH + j] = row[j];
            }
        }
        return Tensor.ofLongs(ids, n, ClipTokenizer.CONTEXT_LENGTH);
    }

    private Tensor onModel(Tensor t) {
        return model.device() == Device.CPU ? t : t.to(model.device(), model.dtype() == DType.F32 ? DType.F32 : model.dtype());
    }
}
