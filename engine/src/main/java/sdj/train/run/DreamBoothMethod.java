package sdj.train.run;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import sdj.io.SafeTensors;
import sdj.io.StateDicts;
import sdj.nn.Parameter;
import sdj.random.TorchGenerator;
import sdj.sd.ModelConfigs;
import sdj.sd.StableDiffusionModel;
import sdj.sd.clip.BpeVocabulary;
import sdj.sd.clip.ClipTextModel;
import sdj.sd.pipeline.StableDiffusion;
import sdj.sd.unet.UNetModel;
import sdj.tensor.Tensor;
import sdj.train.NoiseSchedule;
import sdj.train.data.DataConfig;
import sdj.train.data.DataPosition;
import sdj.train.data.DreamBoothData;
import sdj.train.optim.ParamGroup;

/**
 * diffusers' {@code train_dreambooth.py}: the whole UNet trains (and the text encoder with
 * {@code trainTextEncoder}) in one AdamW group; batches are instances then class images; the loss is the
 * instance term (min-SNR weighted with {@code snrGamma}) plus {@code priorLossWeight} × the prior term
 * ({@link MicroBatch}); the result is the whole model in the CompVis layout ({@link ModelExport}), and on request
 * also as a diffusers folder ({@link #saveDiffusers}). With {@code trainDataDir} it is diffusers'
 * {@code train_text_to_image.py} instead: the images' own captions (metadata.jsonl), optional caption dropout, no
 * class images, and a .safetensors result whose metadata holds the model config ({@link ModelConfigJson}).
 */
public final class DreamBoothMethod implements TrainingMethod {
    static final String UNET_PREFIX = UNetModel.PREFIX + ".";
    static final String TEXT_ENCODER_PREFIX = ClipTextModel.PREFIX + ".";

    private final Map<String, Tensor> base;
    private final DreamBoothData data;
    private final List<Parameter> params;
    private final double lr;
    private final double weightDecay;
    private final MicroBatch microBatch;
    private final ModelConfigs configs;
    private final int resolution;
    private final Path vocabulary;
    /** Text-to-image results carry their model config, so that txt2img loads them without a config file. */
    private final boolean withConfigMetadata;

    private DreamBoothMethod(TrainConfig config, StableDiffusion pipeline, Map<String, Tensor> base) {
        StableDiffusionModel model = pipeline.model();
        this.base = base != null ? base : model.parameters();
        this.data = DreamBoothData.open(dataConfig(config, config.seed()));
        this.params = trainable(model, config.trainTextEncoder());
        this.lr = config.effectiveLearningRate();
        this.weightDecay = config.adamWeightDecay();
        this.microBatch = new MicroBatch(model, pipeline.tokenizer(), NoiseSchedule.sdV1(),
                model.configs().scaleFactor(), config);
        this.configs = model.configs();
        this.resolution = config.resolution();
        this.vocabulary = Path.of(config.tokenizerName());
        // a model of other sizes than SD v1 (text-to-image from scratch, or fine-tuned from one) names its sizes
        this.withConfigMetadata = config.trainDataDir() != null
                || !ModelConfigJson.metadata(configs).equals(ModelConfigJson.metadata(ModelConfigs.SD_V1));
    }

    /** The factory the trainer opens DreamBooth with; missing class images are generated first. */
    public static TrainingMethod open(TrainConfig config, StableDiffusion pipeline, Map<String, Tensor> base,
            ClassImages.Listener classImages) throws IOException {
        ClassImages.fill(config, config.seed(), pipeline, classImages);
        return new DreamBoothMethod(config, pipeline, base);
    }

    @Override
    public List<ParamGroup> parameterGroups() {
        return List.of(new ParamGroup(params, lr, weightDecay));
    }

    @Override
    public int batchesPerEpoch() {
        return data.batchesPerEpoch();
    }

    @Override
    public Tensor loss(DataPosition position, TorchGenerator g) {
        return microBatch.loss(data.batch(position), g);
    }

    @Override
    public DataPosition next(DataPosition position) {
        return data.next(position);
    }

    /** The base model with the trained weights as one CompVis-layout .safetensors or .ckpt file (by extension). */
    @Override
    public void save(Path file) throws IOException {
        save(file, trainedMasters());
    }

    /** As {@link #save(Path)} with {@code trained} (useEma: the EMA weights) in place of the trained weights. */
    @Override
    public void save(Path file, Map<String, Tensor> trained) throws IOException {
        if (withConfigMetadata && StateDicts.formatOf(file) == StateDicts.Format.SAFETENSORS) {
            SafeTensors.write(file, ModelExport.merge(base, trained), ModelConfigJson.metadata(configs));
            return;
        }
        ModelExport.write(file, base, trained);
    }

    /** The same model as a diffusers folder ({@link DiffusersExport}), its tokenizer from the run's vocabulary. */
    @Override
    public void saveDiffusers(Path folder) throws IOException {
        DiffusersExport.write(folder, ModelExport.merge(base, trainedMasters()), configs, resolution,
                BpeVocabulary.load(vocabulary));
    }

    /** The trained weights by name; under fp16/bf16 training their fp32 masters, which diffusers saves too. */
    private Map<String, Tensor> trainedMasters() {
        Map<String, Tensor> trained = new LinkedHashMap<>();
        params.forEach(p -> trained.put(p.name(), p.master()));
        return trained;
    }

    @Override
    public int vaeEncodes() {
        return microBatch.encodes();
    }

    private static List<Parameter> trainable(StableDiffusionModel model, boolean textEncoder) {
        Predicate<String> include = name -> name.startsWith(UNET_PREFIX) || textEncoder && name.startsWith(TEXT_ENCODER_PREFIX);
        model.store().setTrainable(include);
        return model.store().trainable();
    }

    static DataConfig dataConfig(TrainConfig c, long seed) {
        boolean prior = c.withPriorPreservation();
        if (c.trainDataDir() != null) { // text-to-image: every image captioned by metadata.jsonl, no fixed prompt
            return new DataConfig(Path.of(c.trainDataDir()), null, null, null, c.resolution(), c.centerCrop(),
                    c.randomFlip(), true, c.trainBatchSize(), seed, c.skipBadImages());
        }
        return new DataConfig(Path.of(c.instanceDataDir()), c.instancePrompt(), prior ? Path.of(c.classDataDir()) : null,
                prior ? c.classPrompt() : null, c.resolution(), c.centerCrop(), c.randomFlip(), true, c.trainBatchSize(),
                seed, c.skipBadImages());
    }
}
