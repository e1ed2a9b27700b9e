package sdj.train.run;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import sdj.nn.LoraAdapter;
import sdj.nn.Parameter;
import sdj.random.TorchGenerator;
import sdj.sd.DiffusersNames;
import sdj.sd.KohyaNames;
import sdj.sd.StableDiffusionModel;
import sdj.sd.pipeline.StableDiffusion;
import sdj.sd.unet.UNetModel;
import sdj.tensor.Tensor;
import sdj.train.NoiseSchedule;
import sdj.train.data.DataPosition;
import sdj.train.data.DreamBoothData;
import sdj.train.lora.DiffusersLoraFile;
import sdj.train.lora.KohyaLoraFile;
import sdj.train.optim.ParamGroup;

/**
 * LoRA fine-tuning (diffusers' {@code train_dreambooth_lora.py} loop, kohya's adapters and file): only the
 * adapters' lora_down/lora_up train, the UNet's in one AdamW group at the UNet lr and, with
 * {@code trainTextEncoder}, the text encoder's in a second group at the text-encoder lr (the text encoder then
 * runs with gradient); every base weight is frozen. Data and loss are DreamBooth's (captions from per-image
 * files or the instance prompt with its trigger word, optional prior preservation, {@link MicroBatch}). The
 * model must be built with the config's adapter rules ({@link LoraTraining}). The result is a kohya file
 * ({@link KohyaLoraFile}) or diffusers' {@code pytorch_lora_weights.safetensors} ({@link DiffusersLoraFile}).
 */
public final class LoraMethod implements TrainingMethod {
    private final LoraConfig lora;
    private final TrainConfig config;
    private final StableDiffusionModel model;
    private final DreamBoothData data;
    private final List<Parameter> unet = new ArrayList<>();
    private final List<Parameter> textEncoder = new ArrayList<>();
    private final MicroBatch microBatch;

    private LoraMethod(LoraConfig lora, TrainConfig config, StableDiffusion pipeline) {
        this.lora = lora;
        this.config = config;
        this.model = pipeline.model();
        Map<String, LoraAdapter> adapters = model.store().adapters();
        if (adapters.isEmpty()) {
            throw new IllegalArgumentException("the model has no LoRA adapters; build it with the LoRA config's"
                    + " adapter rules (LoraTraining.open) before training");
        }
        adapters.forEach((module, a) -> {
            boolean inUnet = module.startsWith(UNetModel.PREFIX + ".");
            if (inUnet || config.trainTextEncoder()) {
                List<Parameter> group = inUnet ? unet : textEncoder;
                group.add(a.down());
                group.add(a.up());
            }
        });
        List<String> names = new ArrayList<>();
        unet.forEach(p -> names.add(p.name()));
        textEncoder.forEach(p -> names.add(p.name()));
        model.store().setTrainable(names::contains);
        this.data = DreamBoothData.open(DreamBoothMethod.dataConfig(config, config.seed()));
        this.microBatch = new MicroBatch(model, pipeline.tokenizer(), NoiseSchedule.sdV1(),
                model.configs().scaleFactor(), config);
    }

    /** The factory the trainer opens LoRA with; missing class images are generated first (adapters start as no-ops). */
    public static TrainingMethod.Factory factory(LoraConfig lora, ClassImages.Listener classImages) {
        return (config, pipeline, base) -> {
            ClassImages.fill(config, config.seed(), pipeline, classImages);
            return new LoraMethod(lora.withTrain(config), config, pipeline);
        };
    }

    @Override
    public List<ParamGroup> parameterGroups() {
        List<ParamGroup> groups = new ArrayList<>();
        groups.add(new ParamGroup(unet, lora.effectiveUnetLr(), config.adamWeightDecay()));
        if (!textEncoder.isEmpty()) {
            groups.add(new ParamGroup(textEncoder, lora.effectiveTextEncoderLr(), config.adamWeightDecay()));
        }
        return groups;
    }

    @Override
    public int batchesPerEpoch() {
        return data.batchesPerEpoch();
    }

    /** The micro-batch's loss with adapter dropout on (training mode) during its forward only. */
    @Override
    public Tensor loss(DataPosition position, TorchGenerator g) {
        model.store().setTraining(true);
        try {
            return microBatch.loss(data.batch(position), g);
        } finally {
            model.store().setTraining(false); // validation images sample without dropout
        }
    }

    @Override
    public DataPosition next(DataPosition position) {
        return data.next(position);
    }

    /** Writes the trained adapters: kohya's file to {@code file}, or diffusers' file in {@code file}'s folder. */
    @Override
    public void save(Path file) throws IOException {
        Map<String, LoraAdapter> trained = trainedAdapters();
        DiffusersNames names = DiffusersNames.of(model.configs());
        if (lora.saveFormat().toLowerCase(Locale.ROOT).equals("diffusers")) {
            DiffusersLoraFile.write(file, trained, names);
        } else {
            String title = file.getFileName().toString().replaceFirst("\\.safetensors$", "");
            KohyaLoraFile.write(file, trained, new KohyaNames(names),
                    KohyaLoraFile.metadata(lora.rank(), lora.effectiveAlpha(), title, settings()));
        }
    }

    /** The adapters that trained (text-encoder ones only with trainTextEncoder), by module. */
    public Map<String, LoraAdapter> trainedAdapters() {
        Map<String, LoraAdapter> out = new LinkedHashMap<>();
        model.store().adapters().forEach((module, a) -> {
            if (unet.contains(a.down()) || textEncoder.contains(a.down())) {
                out.put(module, a);
            }
        });
        return out;
    }

    /** The run's settings as kohya's {@code ss_*} metadata (TRAINING-FACTS §4.3), values as Python's str(). */
    Map<String, String> settings() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("ss_learning_rate", py(config.learningRate()));
        m.put("ss_unet_lr", py(lora.effectiveUnetLr()));
        m.put("ss_text_encoder_lr", textEncoder.isEmpty() ? "None" : py(lora.effectiveTextEncoderLr()));
        m.put("ss_network_dropout", py(lora.dropout()));
        m.put("ss_num_train_images", Integer.toString(data.instances().size()));
        m.put("ss_num_reg_images", Integer.toString(data.classes().size()));
        m.put("ss_num_batches_per_epoch", Integer.toString(data.batchesPerEpoch()));
        m.put("ss_num_epochs", Integer.toString(config.numTrainEpochs()));
        m.put("ss_max_train_steps", config.maxTrainSteps() == null ? "None" : config.maxTrainSteps().toString());
        m.put("ss_batch_size_per_device", Integer.toString(config.trainBatchSize()));
        m.put("ss_gradient_accumulation_steps", Integer.toString(config.gradientAccumulationSteps()));
        m.put("ss_gradient_checkpointing", config.gradientCheckpointing() ? "True" : "False");
        m.put("ss_lr_scheduler", config.lrScheduler());
        m.put("ss_lr_warmup_steps", Integer.toString(config.lrWarmupSteps()));
        m.put("ss_optimizer", "AdamW(weight_decay=" + py(config.adamWeightDecay()) + ",betas=(" + py(config.adamBeta1())
                + "," + py(config.adamBeta2()) + "),eps=" + py(config.adamEpsilon()) + ")");
        m.put("ss_max_grad_norm", py(config.maxGradNorm()));
        m.put("ss_mixed_precision", config.mixedPrecision());
        m.put("ss_seed", String.valueOf(config.seed()));
        m.put("ss_resolution", "(" + config.resolution() + ", " + config.resolution() + ")");
        m.put("ss_prior_loss_weight", py(config.priorLossWeight()));
        m.put("ss_min_snr_gamma", config.snrGamma() == null ? "None" : py(config.snrGamma()));
        m.put("ss_noise_offset", config.noiseOffset() == 0 ? "None" : py(config.noiseOffset()));
        m.put("ss_training_comment", "sdj train lora, targets " + lora.targets().name().toLowerCase(Locale.ROOT));
        return m;
    }

    private static String py(double v) {
        return KohyaLoraFile.pythonFloat(v);
    }
}
