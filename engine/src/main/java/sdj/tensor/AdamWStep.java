package sdj.tensor;

/**
 * The hyperparameters of one AdamW update (torch 1.13 {@code torch.optim.AdamW}) at update number
 * {@code step} (1 for the first). As in torch, the scalars are computed in double on the host and each is
 * rounded to float32 once where the element-wise math (float32) uses it; the accessors below give exactly
 * those float32 values, so every backend's kernel uses the same ones.
 */
public record AdamWStep(double lr, double beta1, double beta2, double eps, double weightDecay, long step) {
    public AdamWStep {
        if (step < 1) {
            throw new IllegalArgumentException("an AdamW step number starts at 1, got " + step);
        }
        if (!(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1)) {
            throw new IllegalArgumentException("AdamW betas must lie in [0, 1), got (" + beta1 + ", " + beta2 + ")");
        }
    }

    /** {@code param.mul_(1 - lr·wd)}: the decoupled weight decay factor. */
    public float decay() {
        return (float) (1 - lr * weightDecay);
    }

    /** {@code exp_avg.mul_(β1)}. */
    public float beta1F() {
        return (float) beta1;
    }

    /** {@code .add_(grad, alpha = 1 − β1)}. */
    public float oneMinusBeta1() {
        return (float) (1 - beta1);
    }

    /** {@code exp_avg_sq.mul_(β2)}. */
    public float beta2F() {
        return (float) beta2;
    }

    /** {@code .addcmul_(grad, grad, value = 1 − β2)}. */
    public float oneMinusBeta2() {
        return (float) (1 - beta2);
    }

    /** sqrt(1 − β2^k), computed in double ({@code math.sqrt}), then the float divisor of sqrt(v). */
    public float biasCorrection2Sqrt() {
        return (float) Math.sqrt(1 - Math.pow(beta2, step));
    }

    /** ε added to sqrt(v)/sqrt(1 − β2^k). */
    public float epsF() {
        return (float) eps;
    }

    /** {@code value = −step_size} of {@code param.addcdiv_}: −lr/(1 − β1^k), computed in double. */
    public float negativeStepSize() {
        return (float) -(lr / (1 - Math.pow(beta1, step)));
    }
}
