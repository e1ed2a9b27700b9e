package sdj.train.optim;

import java.util.List;
import sdj.ops.InPlace;
import sdj.ops.Reduce;
import sdj.tensor.Autograd;
import sdj.tensor.Tensor;

/**
 * fp16 training's dynamic loss scaling with the semantics of torch's {@code torch.cuda.amp.GradScaler} (as
 * accelerate uses it for {@code --mixed_precision fp16}): the loss is multiplied by the scale before backward, so
 * small gradients survive fp16's narrow range; the gradients are then multiplied by 1/scale and checked for
 * inf/NaN. A step with a non-finite gradient is skipped and halves the scale (backoff); after
 * {@code growthInterval} finite steps in a row the scale doubles (growth). bf16 has fp32's exponent range, so
 * bf16 runs use no scaler (as accelerate).
 */
public final class DynamicLossScaler {
    /** torch's GradScaler defaults. */
    public static final float INIT_SCALE = 65536f;
    public static final float GROWTH_FACTOR = 2f;
    public static final float BACKOFF_FACTOR = 0.5f;
    public static final int GROWTH_INTERVAL = 2000;

    /** The part of a scaler a training checkpoint keeps: the scale and the finite steps since it last changed. */
    public record State(float scale, int growthTracker) {
        public State {
            if (!(scale > 0) || Float.isInfinite(scale) || growthTracker < 0) {
                throw new IllegalArgumentException("a loss scale must be a finite number > 0 and its growth tracker"
                        + " ≥ 0; got scale " + scale + ", growth tracker " + growthTracker);
            }
        }
    }

    private final float growthFactor;
    private final float backoffFactor;
    private final int growthInterval;
    private float scale;
    private int growthTracker;

    /** torch's defaults: scale 65536, ×2 after 2000 finite steps, ×0.5 on a non-finite one. */
    public DynamicLossScaler() {
        this(INIT_SCALE, GROWTH_FACTOR, BACKOFF_FACTOR, GROWTH_INTERVAL);
    }

    public DynamicLossScaler(float initScale, float growthFactor, float backoffFactor, int growthInterval) {
        if (!(growthFactor > 1) || !(backoffFactor > 0 && backoffFactor < 1) || growthInterval < 1) {
            throw new IllegalArgumentException("a loss scaler needs growth factor > 1, 0 < backoff factor < 1 and a"
                    + " growth interval ≥ 1; got " + growthFactor + ", " + backoffFactor + ", " + growthInterval);
        }
        this.growthFactor = growthFactor;
        this.backoffFactor = backoffFactor;
        this.growthInterval = growthInterval;
        restore(new State(initScale, 0));
    }

    public float scale() {
        return scale;
    }

    /** Finite steps since the scale last changed. */
    public int growthTracker() {
        return growthTracker;
    }

    public State state() {
        return new State(scale, growthTracker);
    }

    /** Continues from a checkpoint's state. */
    public void restore(State state) {
        this.scale = state.scale();
        this.growthTracker = state.growthTracker();
    }

    /** loss × scale, recorded for backward (the gradients come out multiplied by the scale). */
    public Tensor scale(Tensor loss) {
        return loss.mul(scale);
    }

    /**
     * Multiplies every gradient in place by 1/scale (float32, as torch's {@code reciprocal} of the fp32 scale) and
     * returns whether all of them are finite (torch's {@code found_inf} negated). Null entries are skipped. The
     * check is Σ(g·0) summed over all gradients on their device: 0 when every element is finite, NaN when any is
     * inf or NaN, so one value is read back for all gradients.
     */
    public boolean unscale(List<Tensor> grads) {
        float inverse = (float) (1.0 / scale);
        try (var scope = Autograd.noGrad()) {
            Tensor nonFinite = null;
            for (Tensor g : grads) {
                if (g == null) {
                    continue;
                }
                InPlace.mul_(g, inverse);
                Tensor probe = Reduce.sumAll(g.mul(0f));
                nonFinite = nonFinite == null ? probe : nonFinite.add(probe);
            }
            return nonFinite == null || nonFinite.cpu().item() == 0f;
        }
    }

    /**
     * torch's {@code GradScaler.update} after a step: a non-finite step multiplies the scale by the backoff factor
     * and restarts the count; a finite one counts, and the interval-th in a row multiplies it by the growth factor
     * (kept only when the result is finite) and restarts the count.
     */
    public void update(boolean finite) {
        if (!finite) {
            scale *= backoffFactor;
            growthTracker = 0;
            return;
        }
        growthTracker++;
        if (growthTracker == growthInterval) {
            float grown = scale * growthFactor;
            if (Float.isFinite(grown)) {
                scale = grown;
            }
            growthTracker = 0;
        }
    }
}
