package sdj.train.lora;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.regex.Pattern;
import sdj.io.Json;
import sdj.io.SafeTensors;
import sdj.io.StateDicts;
import sdj.nn.AdapterRule;
import sdj.nn.LoraAdapter;
import sdj.nn.Parameter;
import sdj.ops.F;
import sdj.sd.DiffusersNames;
import sdj.sd.KohyaNames;
import sdj.sd.ModelConfigFiles;
import sdj.sd.ModelConfigs;
import sdj.sd.StableDiffusionModel;
import sdj.sd.unet.UNetModel;
import sdj.sd.verify.Check;
import sdj.sd.verify.ReferenceRun;
import sdj.tensor.DType;
import sdj.tensor.Device;
import sdj.tensor.Tensor;
import sdj.train.FragileWeightCheck;
import sdj.train.LoraHyperparameters;
import sdj.train.ReferenceCheck;
import sdj.train.optim.AdamW;
import sdj.train.optim.GradClip;
import sdj.train.optim.ParamGroup;

/**
 * Replays a training reference's LoRA run (sd-tiny-train README section D, kohya {@code networks/lora.py}
 * semantics) and compares it: adapters on exactly the modules the reference's {@code lora.init.<kohya>} tensors
 * name, starting from those tensors; the text encoder runs with its adapters and is not detached; loss = MSE mean
 * of the UNet's prediction on {@code in.noisy} against {@code in.noise} (the first B samples, B = rows of
 * {@code lora.ids}); AdamW with two groups (UNet adapters, text-encoder adapters), global clipping over all
 * adapters. Checks {@code lora.context.1}, {@code lora.eps.1}, {@code lora.loss.k}, {@code lora.gradnorm.k},
 * every {@code lora.grad.1.*} and every {@code lora.after.<steps>.*} (README tolerances, Adam-fragile elements
 * from the stored update-1 gradients). Every setting comes from the metadata's {@code hyperparameters}.
 */
public final class LoraReference {
    static final String PREFIX = "lora.";
    static final String INIT = PREFIX + "init.";
    /** README "Tolerances": an element is Adam-fragile when |g| < 1e-4·max|g| of its tensor's update-1 gradient. */
    static final double FRAGILE_GRADIENT_REL = 1e-4;
    /** README "Tolerances": fragile elements after an update within 3·lr of their group. */
    static final double FRAGILE_LR_MULTIPLE = 3;
    /** README "Tolerances": other weights after an update within 1e-4·max|b|. */
    static final double WEIGHT_REL = 1e-4;

    private final StableDiffusionModel model;
    private final ReferenceCheck check;
    private final LoraHyperparameters hp;
    private final double toleranceScale;
    /** Adapted LDM module → kohya module name. */
    private final Map<String, String> kohyaOf;

    private LoraReference(StableDiffusionModel model, ReferenceCheck check, LoraHyperparameters hp,
            Map<String, String> kohyaOf) {
        this.model = model;
        this.check = check;
        this.hp = hp;
        this.toleranceScale = ReferenceRun.deviceToleranceScale(model.device(), model.dtype());
        this.kohyaOf = kohyaOf;
    }

    /** Every update of the reference's LoRA run on the CPU in fp32, modules named by {@link KohyaNames}. */
    public static ReferenceCheck check(Path checkpoint, Path reference, Consumer<Check> onCheck) throws IOException {
        return check(checkpoint, reference, null, Device.CPU, DType.F32, onCheck);
    }

    /**
     * The same with the model on {@code device} in {@code dtype} (tolerances widened as {@code sdj verify}'s).
     *
     * @param kohyaName full LDM module name → kohya module name ({@code lora_unet_…}, {@code lora_te_…}), null for a
     *                  module kohya does not name; null: {@link KohyaNames} of the reference's model config
     */
    public static ReferenceCheck check(Path checkpoint, Path reference, Function<String, String> kohyaName,
            Device device, DType dtype, Consumer<Check> onCheck) throws IOException {
        SafeTensors ref = SafeTensors.open(reference);
        Map<String, String> metadata = ref.metadata();
        String hyper = metadata.get("hyperparameters");
        if (hyper == null) {
            throw new IllegalArgumentException(reference + " has no 'hyperparameters' entry in its __metadata__;"
                    + " it is not a training reference (sd-tiny-train layout)");
        }
        LoraHyperparameters hp = LoraHyperparameters.fromReference(Json.parseObject(hyper), reference.toString());
        Map<String, Tensor> refTensors = ref.tensors();
        Map<String, Tensor> stateDict = new LinkedHashMap<>(StateDicts.load(checkpoint));
        ModelConfigs configs = ModelConfigFiles.fromMetadata(metadata, reference.toString());
        if (kohyaName == null) {
            kohyaName = new KohyaNames(DiffusersNames.of(configs))::toKohya;
        }
        Map<String, String> kohyaOf = adaptedModules(refTensors, stateDict, kohyaName, reference.toString());
        // the reference's initial adapters under LDM names: the adapters load them instead of initialising
        kohyaOf.forEach((module, kohya) -> {
            for (String part : List.of(LoraAdapter.DOWN, LoraAdapter.UP)) {
                Tensor init = refTensors.get(INIT + kohya + "." + part);
                if (init == null) {
                    throw new IllegalArgumentException(reference + " has no tensor '" + INIT + kohya + "." + part
                            + "' though it has the module's other initial tensor; is the reference complete?");
                }
                stateDict.put(module + "." + part, Tensor.of(init.toFloatArray().clone(), init.shape()));
            }
        });
        AdapterRule rule = new AdapterRule(exactly(kohyaOf.keySet()), hp.rank(), (float) hp.alpha(), 0f, 0L,
                AdapterRule.DownInit.KAIMING_UNIFORM);
        StableDiffusionModel model = StableDiffusionModel.fromStateDict(stateDict, configs, checkpoint.toString(),
                device, dtype, List.of(rule));
        ReferenceCheck check = new ReferenceCheck(refTensors, reference.toString(), onCheck);
        new LoraReference(model, check, hp, kohyaOf).run();
        return check;
    }

    /**
     * LDM module → kohya name for every module the reference's {@code lora.init.<kohya>.lora_down.weight} names,
     * found by naming each weight of the checkpoint; a name that matches none is an error.
     */
    static Map<String, String> adaptedModules(Map<String, Tensor> reference, Map<String, Tensor> stateDict,
            Function<String, String> kohyaName, String origin) {
        Map<String, String> ldmOf = new HashMap<>();
        for (String key : stateDict.keySet()) {
            if (key.endsWith(".weight")) {
                String module = key.substring(0, key.length() - ".weight".length());
                String kohya = kohyaName.apply(module);
                if (kohya != null) {
                    ldmOf.put(kohya, module);
                }
            }
        }
        String suffix = "." + LoraAdapter.DOWN;
        Map<String, String> kohyaOf = new LinkedHashMap<>();
        for (String name : reference.keySet()) {
            if (name.startsWith(INIT) && name.endsWith(suffix)) {
                String kohya = name.substring(INIT.length(), name.length() - suffix.length());
                String module = ldmOf.get(kohya);
                if (module == null) {
                    throw new IllegalArgumentException(origin + ": '" + name + "' names the module '" + kohya
                            + "', which is no layer of the base checkpoint; use the reference's own base model");
                }
                kohyaOf.put(module, kohya);
            }
        }
        if (kohyaOf.isEmpty()) {
            throw new IllegalArgumentException(origin + " has no '" + INIT + "<module>.lora_down.weight' tensors;"
                    + " it is not a training reference with a LoRA section (sd-tiny-train layout, section D)");
        }
        return kohyaOf;
    }

    /** A whole-name match of exactly these module names. */
    private static Pattern exactly(Iterable<String> modules) {
        List<String> quoted = new ArrayList<>();
        modules.forEach(m -> quoted.add(Pattern.quote(m)));
        return Pattern.compile("^(" + String.join("|", quoted) + ")$");
    }

    private void run() {
        Tensor ids = check.expected(PREFIX + "ids");
        int b = ids.size(0);
        long[] t = check.expected("in.t").toLongArray();
        float[] timesteps = new float[b];
        for (int i = 0; i < b; i++) {
            timesteps[i] = t[i];
        }
        Tensor noisy = input("in.noisy").narrow(0, 0, b).contiguous();
        Tensor noise = input("in.noise").narrow(0, 0, b).contiguous();

        model.store().setTrainable(LoraAdapter::isAdapterWeight);
        model.store().setTraining(true); // dropout 0 in the reference: training mode changes nothing else
        try {
            List<Parameter> unet = new ArrayList<>();
            List<Parameter> textEncoder = new ArrayList<>();
            model.store().adapters().forEach((module, a) -> {
                List<Parameter> group = module.startsWith(UNetModel.PREFIX + ".") ? unet : textEncoder;
                group.add(a.down());
                group.add(a.up());
            });
            List<Parameter> all = new ArrayList<>(unet);
            all.addAll(textEncoder);
            AdamW adamw = new AdamW(List.of(new ParamGroup(unet, hp.unetLr(), hp.weightDecay()),
                    new ParamGroup(textEncoder, hp.textEncoderLr(), hp.weightDecay())), hp.beta1(), hp.beta2(), hp.eps());
            for (int k = 1; k <= hp.steps(); k++) {
                Tensor context = model.clip().forward(ids); // with gradient: the text-encoder adapters train
                Tensor eps = model.unet().forward(noisy, timesteps, context);
                Tensor loss = F.mseLoss(eps, noise.to(eps.device(), eps.dtype()));
                if (k == 1) {
                    check.compare(PREFIX + "context.1", context, forward());
                    check.compare(PREFIX + "eps.1", eps, forward());
                }
                check.compare(PREFIX + "loss." + k, loss.reshape(1), scalar());
                loss.backward();
                List<Tensor> grads = all.stream().map(p -> p.tensor().grad()).toList();
                check.compare(PREFIX + "gradnorm." + k, new float[] {GradClip.globalNorm(grads)}, scalar());
                if (k == 1) {
                    forEachAdapterTensor((name, p) -> check.compare(PREFIX + "grad.1." + name, p.tensor().grad(),
                            ReferenceCheck.GRADIENT.scaled(toleranceScale)));
                }
                if (!Double.isNaN(hp.maxGradNorm())) {
                    GradClip.clipGradNorm(grads, hp.maxGradNorm());
                }
                adamw.step();
                all.forEach(p -> p.tensor().zeroGrad());
            }
            checkWeights();
        } finally {
            model.store().setTrainable(name -> false);
            model.store().setTraining(false);
        }
    }

    /** One check per adapter tensor after the last update, with the README's fragile-element rule. */
    private void checkWeights() {
        forEachAdapterTensor((name, p) -> {
            float[] g1 = check.expected(PREFIX + "grad.1." + name).toFloatArray();
            double lr = p.name().startsWith(UNetModel.PREFIX + ".") ? hp.unetLr() : hp.textEncoderLr();
            float[] expected = check.expected(PREFIX + "after." + hp.steps() + "." + name).toFloatArray();
            float[] actual = p.master().to(Device.CPU, DType.F32).toFloatArray();
            check.add(FragileWeightCheck.compare(PREFIX + "after." + hp.steps() + "." + name, actual, expected,
                    fragileIndices(g1), false, FRAGILE_LR_MULTIPLE * lr, WEIGHT_REL * toleranceScale));
        });
    }

    /** Flat indices of the elements whose update-1 gradient is below 1e-4 of the tensor's largest. */
    static long[] fragileIndices(float[] gradient) {
        double max = 0;
        for (float g : gradient) {
            max = Math.max(max, Math.abs(g));
        }
        List<Long> out = new ArrayList<>();
        for (int i = 0; i < gradient.length; i++) {
            if (Math.abs(gradient[i]) < FRAGILE_GRADIENT_REL * max) {
                out.add((long) i);
            }
        }
        return out.stream().mapToLong(Long::longValue).toArray();
    }

    /** Each adapter's down then up tensor, under its kohya file name ({@code <kohya>.lora_down.weight}), in model order. */
    private void forEachAdapterTensor(BiConsumer<String, Parameter> action) {
        model.store().adapters().forEach((module, a) -> {
            String kohya = kohyaOf.get(module);
            action.accept(kohya + "." + LoraAdapter.DOWN, a.down());
            action.accept(kohya + "." + LoraAdapter.UP, a.up());
        });
    }

    private Tensor input(String name) {
        return check.input(name, model.device(), model.dtype());
    }

    private Check.Tolerance forward() {
        return ReferenceCheck.FORWARD.scaled(toleranceScale);
    }

    private Check.Tolerance scalar() {
        return ReferenceCheck.SCALAR.scaled(toleranceScale);
    }
}
