package sdj.train.optim;

import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import sdj.nn.Parameter;
import sdj.tensor.Tensor;

/**
 * One optimizer step of a training loop in fp32 or mixed precision, in accelerate's order: the gradients in fp32
 * ({@link Parameter#gradF32()}: the fp32 gradient itself, or an fp32 copy of an fp16/bf16 one), unscaled and
 * checked by the {@link DynamicLossScaler} when there is one (fp16), clipped to the global norm (computed on the
 * unscaled gradients), then AdamW on the fp32 master weights, which it rounds back into the fp16/bf16 tensors
 * ({@link Parameter#syncFromMaster()}). A step whose gradients are not finite under a scaler is skipped: no
 * parameter, moment or AdamW step count changes and the scale backs off (torch's {@code scaler.step} and
 * {@code scaler.update}). Gradients are left in place; the caller clears them.
 */
public final class MasterWeightStep {
    private final List<Parameter> params;
    private final Optimizer optimizer;
    private final DynamicLossScaler scaler;
    private final double maxGradNorm;

    /** What a step did. */
    public enum Kind {
        /** AdamW updated the weights. */
        APPLIED,
        /** fp16: a gradient was inf or NaN after unscaling; nothing was updated and the scale backed off. */
        SKIPPED,
        /** no scaler: the gradient norm is not finite; nothing was updated (the trainer stops). */
        NOT_FINITE
    }

    /** The update of the weights from given gradients: {@code adamw::step}, or a trainer's choice of optimizer. */
    @FunctionalInterface
    public interface Optimizer {
        void step(AdamW.GradientSource grads);
    }

    /** @param gradNorm the global norm before clipping (of the unscaled gradients); NaN for a skipped step */
    public record Outcome(Kind kind, float gradNorm) {
    }

    /** @param scaler the fp16 loss scaler, or null (fp32 and bf16 training) */
    public MasterWeightStep(List<Parameter> params, Optimizer optimizer, DynamicLossScaler scaler, double maxGradNorm) {
        this.params = List.copyOf(params);
        this.optimizer = optimizer;
        this.scaler = scaler;
        this.maxGradNorm = maxGradNorm;
    }

    /** The scaler, or null without loss scaling. */
    public DynamicLossScaler scaler() {
        return scaler;
    }

    /** The loss to backpropagate: multiplied by the scale under fp16 loss scaling, else itself. */
    public Tensor lossForBackward(Tensor loss) {
        return scaler == null ? loss : scaler.scale(loss);
    }

    /** Unscales, checks, clips and updates at the groups' learning rates as set now (see the class comment). */
    public Outcome step() {
        Map<Parameter, Tensor> grads = new IdentityHashMap<>();
        for (Parameter p : params) {
            grads.put(p, p.gradF32());
        }
        List<Tensor> list = params.stream().map(grads::get).toList();
        if (scaler != null && !scaler.unscale(list)) {
            scaler.update(false);
            return new Outcome(Kind.SKIPPED, Float.NaN);
        }
        float norm = GradClip.clipGradNorm(list, maxGradNorm);
        if (!Float.isFinite(norm)) {
            return new Outcome(Kind.NOT_FINITE, norm);
        }
        optimizer.step(grads::get);
        if (scaler != null) {
            scaler.update(true);
        }
        return new Outcome(Kind.APPLIED, norm);
    }
}
