package sdj.train.vae;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import sdj.io.SafeTensors;
import sdj.nn.Parameter;
import sdj.random.TorchGenerator;
import sdj.sd.StableDiffusionModel;
import sdj.sd.pipeline.StableDiffusion;
import sdj.sd.vae.AutoencoderKL;
import sdj.tensor.DType;
import sdj.tensor.Device;
import sdj.tensor.Tensor;
import sdj.train.data.DataConfig;
import sdj.train.data.DataPosition;
import sdj.train.data.DreamBoothData;
import sdj.train.optim.ParamGroup;
import sdj.train.run.TrainConfig;
import sdj.train.run.TrainingMethod;

/**
 * Trains the KL autoencoder ({@code first_stage_model.*}: encoder, decoder, quant_conv, post_quant_conv) with
 * {@link VaeLoss}, LDM's learned scalar {@code logvar} (start 0) training with it in one AdamW group. The data is the
 * folder {@code instanceDataDir} (captions are not read for the loss). The result is {@code vae.safetensors}: only the
 * first_stage_model.* weights in fp32, with the measured {@link LatentScale} as the metadata "scale_factor".
 */
public final class VaeMethod implements TrainingMethod {
    public static final String VAE_PREFIX = AutoencoderKL.PREFIX + ".";
    /** LDM's name of the learned reconstruction log-variance (its AutoencoderKL's {@code loss.logvar}). */
    public static final String LOGVAR = "loss.logvar";

    private final StableDiffusionModel model;
    private final DreamBoothData data;
    private final List<Parameter> params;
    private final Parameter logvar;
    private final double lr;
    private final double weightDecay;
    private final VaeSettings settings;
    private final long seed;
    private LatentScale scale;
    private VaeLoss.Parts lastParts;

    private VaeMethod(TrainConfig config, StableDiffusion pipeline, VaeSettings settings) {
        this.model = pipeline.model();
        this.data = DreamBoothData.open(dataConfig(config));
        model.store().setTrainable(name -> name.startsWith(VAE_PREFIX));
        this.logvar = Parameter.standalone(LOGVAR, Tensor.zeros().to(model.device(), model.dtype()));
        logvar.trainable(true);
        List<Parameter> all = new ArrayList<>(model.store().trainable());
        all.add(logvar);
        this.params = List.copyOf(all);
        this.lr = config.effectiveLearningRate();
        this.weightDecay = config.adamWeightDecay();
        this.settings = settings;
        this.seed = config.seed();
    }

    /** Opens a VAE run (as a {@link TrainingMethod.Factory}: {@code (c, p, base) -> VaeMethod.open(c, p, settings)}). */
    public static VaeMethod open(TrainConfig config, StableDiffusion pipeline, VaeSettings settings) {
        return new VaeMethod(config, pipeline, settings);
    }

    /** How the training images are read (the folder, resolution, crop, flip, batch). */
    public DataConfig dataConfig() {
        return data.config();
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
        Tensor pixels = data.batch(position).pixels().to(model.device(), model.dtype());
        lastParts = VaeLoss.of(model.vae(), pixels, logvar.tensor(), settings.klWeight(), settings.reconstruction(), g);
        return lastParts.total();
    }

    /** The parts of the last micro-batch's loss (mean reconstruction error, KL per image), or null before one. */
    public VaeLoss.Parts lastParts() {
        return lastParts;
    }

    @Override
    public DataPosition next(DataPosition position) {
        return data.next(position);
    }

    /** Measures the latent scale on the training images, then writes the VAE weights with it as metadata. */
    @Override
    public void save(Path file) throws IOException {
        scale = LatentScale.measure(model.vae(), model.device(), data.config(), seed);
        Map<String, Tensor> weights = new LinkedHashMap<>();
        for (Parameter p : params) {
            if (p.name().startsWith(VAE_PREFIX)) {
                weights.put(p.name(), p.master().detach().to(Device.CPU, DType.F32));
            }
        }
        SafeTensors.write(file, weights, Map.of("scale_factor", Double.toString(scale.scaleFactor()),
                "latent_std", Double.toString(scale.latentStd()), "scale_images", Integer.toString(scale.images())));
    }

    /** The scale {@link #save} measured, or null before it. */
    public LatentScale scale() {
        return scale;
    }

    static DataConfig dataConfig(TrainConfig c) {
        return new DataConfig(Path.of(c.instanceDataDir()), c.instancePrompt(), null, null, c.resolution(), c.centerCrop(),
                c.randomFlip(), true, c.trainBatchSize(), c.seed(), c.skipBadImages());
    }
}
