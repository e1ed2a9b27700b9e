package sdj.sd.verify;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import sdj.ops.F;
import sdj.random.TorchGenerator;
import sdj.sd.sample.CfgEpsModel;
import sdj.sd.sample.EpsModel;
import sdj.sd.sample.ProgressListener;
import sdj.sd.sample.Sampler;
import sdj.sd.sample.SamplerOptions;
import sdj.sd.sample.Samplers;
import sdj.sd.sample.Schedule;
import sdj.sd.StableDiffusionModel;
import sdj.tensor.Autograd;
import sdj.tensor.DType;
import sdj.tensor.Device;
import sdj.tensor.Tensor;

/**
 * Recomputes the outputs of a reference file (sd-tiny's {@code reference.safetensors} layout) from
 * its inputs with our networks and compares: {@code clip.*}, {@code unet.*}, {@code vae.*} and
 * {@code grad.*} (the loss, dloss/dx and every listed weight gradient) and {@code sample.*} (10-step CompVis
 * DDIM and PLMS with guidance 7.5). Inputs go to the model's device and outputs come back to the host
 * for comparison; on CUDA the gradients are the GPU tape's.
 */
public final class Verifier {
    private final StableDiffusionModel model;
    private final Map<String, Tensor> ref;
    private final double toleranceScale;

    /**
     * @param toleranceScale 1 for fp32 weights; larger when the checkpoint holds rounded (fp16)
     *     weights while the reference was made with fp32 ones
     */
    public Verifier(StableDiffusionModel model, Map<String, Tensor> reference, double toleranceScale) {
        this.model = model;
        this.ref = reference;
        this.toleranceScale = toleranceScale;
    }

    /** Runs every check the reference has inputs for, reporting each as it completes. */
    public List<Check> run(Consumer<Check> onCheck) {
        List<Check> checks = new ArrayList<>();
        Consumer<Check> add = c -> {
            checks.add(c);
            onCheck.accept(c);
        };
        if (ref.containsKey("clip.input_ids")) {
            verifyClip(add);
        }
        if (ref.containsKey("unet.x")) {
            verifyUnet(add);
        }
        if (ref.containsKey("vae.z") || ref.containsKey("vae.image")) {
            verifyVae(add);
        }
        if (ref.containsKey("grad.target")) {
            verifyGradients(add);
        }
        for (String sampler : new String[] {"ddim", "plms"}) {
            if (ref.containsKey("sample." + sampler + "10")) {
                verifySampler(sampler, 10, add);
            }
        }
        return checks;
    }

    public Check.Tolerance forward() {
        return Check.Tolerance.FORWARD.scaled(toleranceScale);
    }

    public Check.Tolerance gradient() {
        return Check.Tolerance.GRADIENT.scaled(toleranceScale);
    }

    private void verifyClip(Consumer<Check> add) {
        try (var g = Autograd.noGrad()) {
            Tensor hidden = model.clip().forward(ref.get("clip.input_ids")); // the model moves ids to its device
            add.accept(compare("clip.last_hidden_state", hidden, forward()));
        }
    }

    private Tensor unetEps(Tensor x) {
        return model.unet().forward(onDevice(x), ref.get("unet.t").toFloatArray(), onDevice(ref.get("unet.context")));
    }

    private void verifyUnet(Consumer<Check> add) {
        try (var g = Autograd.noGrad()) {
            add.accept(compare("unet.eps", unetEps(ref.get("unet.x")), forward()));
        }
    }

    private void verifyVae(Consumer<Check> add) {
        try (var g = Autograd.noGrad()) {
            if (ref.containsKey("vae.z")) {
                add.accept(compare("vae.decoded", model.vae().decode(onDevice(ref.get("vae.z"))), forward()));
            }
            if (ref.containsKey("vae.image")) {
                add.accept(compare("vae.moments", model.vae().encodeMoments(onDevice(ref.get("vae.image"))), forward()));
            }
        }
    }

    private void verifyGradients(Consumer<Check> add) {
        String prefix = "grad.";
        Map<String, Tensor> params = model.parameters();
        List<String> weightNames = new ArrayList<>();
        for (String k : ref.keySet()) {
            if (k.startsWith(prefix + "model.")) {
                String name = k.substring(prefix.length());
                Tensor p = params.get(name);
                if (p == null) {
                    add.accept(new Check(k + " (no such parameter)", Double.NaN, Double.NaN, false));
                    continue;
                }
                p.zeroGrad();
                p.requiresGrad(true);
                weightNames.add(name);
            }
        }
        // a fresh leaf (the reference tensor is a read-only view of the file; on CUDA, to() copies)
        Tensor x = model.device() == Device.CPU ? Tensor.of(ref.get("unet.x").toFloatArray(), ref.get("unet.x").shape())
                : onDevice(ref.get("unet.x"));
        x.requiresGrad(true);
        Tensor loss = F.mseLoss(unetEps(x), onDevice(ref.get("grad.target")));
        add.accept(compare("grad.loss", loss.reshape(1), forward()));
        loss.backward();
        add.accept(compare("grad.x", x.grad(), gradient()));
        for (String name : weightNames) {
            Tensor p = params.get(name);
            add.accept(compare(prefix + name, p.grad(), gradient()));
            p.requiresGrad(false);
            p.zeroGrad();
        }
    }

    /**
     * CompVis sampling with eta 0 and guidance 7.5 from {@code sample.xT}, context [uncond; cond],
     * using the checkpoint's ᾱ schedule when it has one.
     */
    private void verifySampler(String name, int steps, Consumer<Check> add) {
        float[] ac = model.alphasCumprod();
        Schedule schedule = ac != null ? new Schedule(ac) : Schedule.sdV1();
        Sampler sampler = Samplers.byName(name, SamplerOptions.defaults().withSchedule(schedule));
        try (var g = Autograd.noGrad()) {
            Tensor context = F.cat(List.of(ref.get("sample.uncond"), ref.get("sample.cond")), 0);
            EpsModel eps = new CfgEpsModel(model.unetEps(), onDevice(context), 7.5f);
            Tensor out = sampler.sample(eps, ref.get("sample.xT"), steps, new TorchGenerator(0), ProgressListener.NONE);
            add.accept(compare("sample." + name + steps, out, Check.Tolerance.SAMPLER.scaled(toleranceScale)));
        }
    }

    private Check compare(String name, Tensor actual, Check.Tolerance tol) {
        Tensor expected = ref.get(name);
        if (actual == null) {
            return new Check(name + " (no gradient reached it)", Double.NaN, Double.NaN, false);
        }
        return Check.compare(name, actual.to(Device.CPU, DType.F32).floats(), expected.toFloatArray(), tol);
    }

    /** A reference input on the model's device in its dtype (the tensor itself on the CPU). */
    private Tensor onDevice(Tensor t) {
        return t.to(model.device(), model.device() == Device.CPU ? null : model.dtype());
    }
}
