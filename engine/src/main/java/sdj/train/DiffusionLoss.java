package sdj.train;

import java.util.Arrays;
import sdj.ops.F;
import sdj.ops.Unary;
import sdj.tensor.Shape;
import sdj.tensor.Tensor;

/**
 * The ε-prediction loss of a batch laid out as {@code instances} samples followed by class (prior
 * preservation) samples, as diffusers' {@code train_dreambooth.py} computes it:
 * <ul>
 * <li>instance term: mean over the instance samples of w_b·mean_{c,h,w}(e_b²), with the min-SNR-γ weight
 * w_b = min(snr_b, γ)/snr_b when {@code snrGamma} is set, else w_b = 1 (then it is the plain MSE);
 * <li>prior term: the MSE over the class samples (never SNR-weighted);
 * <li>loss = instance + priorLossWeight·prior.
 * </ul>
 * With no class samples and no γ this is {@code F.mse_loss(eps, target)}. The instance weights use the
 * instance samples' own timesteps (the min-SNR paper and kohya; diffusers' script with prior preservation
 * and --snr_gamma multiplies by all 2B weights and fails).
 *
 * @param instances how many leading samples are instance samples (the rest are class samples)
 * @param priorLossWeight weight of the prior term (ignored without class samples)
 * @param snrGamma γ of min-SNR weighting, or NaN for none
 */
public record DiffusionLoss(int instances, double priorLossWeight, double snrGamma) {

    public DiffusionLoss {
        if (instances < 1) {
            throw new IllegalArgumentException("a training batch needs at least one instance sample, got " + instances);
        }
        if (!Double.isNaN(snrGamma) && !(snrGamma > 0)) {
            throw new IllegalArgumentException("the min-SNR gamma must be positive (or off), got " + snrGamma);
        }
    }

    /** Plain MSE over a batch of {@code batch} samples, all of them instances. */
    public static DiffusionLoss mse(int batch) {
        return new DiffusionLoss(batch, 0, Double.NaN);
    }

    public boolean minSnr() {
        return !Double.isNaN(snrGamma);
    }

    /** The instance weights w_b (all 1 without min-SNR), for the first {@code instances} timesteps. */
    public float[] instanceWeights(long[] timesteps, NoiseSchedule schedule) {
        long[] inst = Arrays.copyOf(timesteps, instances);
        if (minSnr()) {
            return schedule.minSnrWeights(inst, snrGamma);
        }
        float[] ones = new float[instances];
        Arrays.fill(ones, 1f);
        return ones;
    }

    /** The loss (a 0-dim tensor, recorded for backward) of prediction eps against target, both [B, C, H, W]. */
    public Tensor compute(Tensor eps, Tensor target, long[] timesteps, NoiseSchedule schedule) {
        int batch = eps.size(0);
        if (!Arrays.equals(eps.shape(), target.shape()) || timesteps.length != batch || instances > batch) {
            throw new IllegalArgumentException("the loss needs a prediction and a target of the same shape [B, ...], B timesteps"
                    + " and at most B instance samples; got " + Shape.str(eps.shape()) + ", " + Shape.str(target.shape())
                    + ", " + timesteps.length + " timesteps and " + instances + " instances");
        }
        Tensor inst = instanceTerm(eps.narrow(0, 0, instances), target.narrow(0, 0, instances), timesteps, schedule);
        int classes = batch - instances;
        if (classes == 0) {
            return inst;
        }
        Tensor prior = F.mseLoss(eps.narrow(0, instances, classes), target.narrow(0, instances, classes));
        return inst.add(prior.mul((float) priorLossWeight));
    }

    private Tensor instanceTerm(Tensor eps, Tensor target, long[] timesteps, NoiseSchedule schedule) {
        if (!minSnr()) {
            return F.mseLoss(eps, target);
        }
        int n = eps.size(0);
        Tensor perSample = Unary.square(eps.sub(target)).reshape(n, -1).mean(1, false); // [n]
        Tensor w = Tensor.of(instanceWeights(timesteps, schedule), n).to(eps.device(), perSample.dtype());
        return perSample.mul(w).mean();
    }
}
