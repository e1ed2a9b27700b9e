package sdj.train;

import sdj.ops.Cast;
import sdj.sd.unet.UNetModel;
import sdj.tensor.DType;
import sdj.tensor.Tensor;

/**
 * One training step's forward: noise the batch's latents at its timesteps (q_sample), predict the
 * noise with the UNet and weigh the error with a {@link DiffusionLoss}. Gradients flow into whatever
 * the caller marked trainable (UNet parameters, or the context when it was computed with gradient);
 * call {@code result.loss().backward()} next. The loss is computed in fp32 from an fp16/bf16 prediction (and
 * target), as diffusers' {@code F.mse_loss(model_pred.float(), target.float())}: a half loss would lose bits
 * and overflow once fp16 training multiplies it by its loss scale.
 */
public final class DiffusionObjective {
    private final NoiseSchedule schedule;
    private final DiffusionLoss loss;

    public DiffusionObjective(NoiseSchedule schedule, DiffusionLoss loss) {
        this.schedule = schedule;
        this.loss = loss;
    }

    public NoiseSchedule schedule() {
        return schedule;
    }

    public DiffusionLoss loss() {
        return loss;
    }

    /** The step's intermediate values: noisy latents x_t, the UNet's prediction, and the scalar loss. */
    public record Result(Tensor noisy, Tensor eps, Tensor loss) {
    }

    public Result forward(UNetModel unet, DiffusionBatch batch) {
        Tensor noisy = schedule.addNoise(batch.latents(), batch.noise(), batch.timesteps());
        Tensor eps = unet.forward(noisy, batch.timestepsAsFloats(), batch.context());
        Tensor value = loss.compute(Cast.to(eps, DType.F32), batch.noise().to(eps.device(), DType.F32),
                batch.timesteps(), schedule);
        return new Result(noisy, eps, value);
    }
}
