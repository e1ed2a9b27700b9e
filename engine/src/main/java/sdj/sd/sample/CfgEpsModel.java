package sdj.sd.sample;

import sdj.tensor.Tensor;

/**
 * Classifier-free guidance as CompVis samplers apply it: one network call on the doubled batch
 * {@code [x; x]} with context {@code [uncond; cond]} (the order of {@code torch.cat([unconditional_conditioning, c])}),
 * then {@code ε = ε_uncond + scale · (ε_cond − ε_uncond)}. With scale 1 only the conditional half runs.
 */
public final class CfgEpsModel implements EpsModel {
    private final ConditionalEpsModel model;
    private final Tensor context;
    private final float scale;

    /**
     * @param context [2B, tokens, width]: the B unconditional rows, then the B conditional rows
     * @param scale guidance scale (CompVis default 7.5)
     */
    public CfgEpsModel(ConditionalEpsModel model, Tensor context, float scale) {
        if (context.dim() < 1 || context.size(0) % 2 != 0) {
            throw new IllegalArgumentException("guidance context must stack [uncond; cond] on dim 0, got a leading size of "
                    + (context.dim() < 1 ? "none" : context.size(0)));
        }
        this.model = model;
        this.context = context;
        this.scale = scale;
    }

    @Override
    public Tensor eps(Tensor x, float[] timesteps) {
        int b = x.size(0);
        if (context.size(0) != 2 * b) {
            throw new IllegalArgumentException("latent batch " + b + " does not match guidance context batch "
                    + context.size(0) + " (expected 2 x " + b + ")");
        }
        if (scale == 1f) {
            return model.eps(x, timesteps, context.narrow(0, b, b));
        }
        float[] xs = x.toFloatArray();
        float[] x2 = new float[2 * xs.length];
        System.arraycopy(xs, 0, x2, 0, xs.length);
        System.arraycopy(xs, 0, x2, xs.length, xs.length);
        float[] t2 = new float[2 * b];
        System.arraycopy(timesteps, 0, t2, 0, b);
        System.arraycopy(timesteps, 0, t2, b, b);
        int[] shape2 = x.shape();
        shape2[0] = 2 * b;

        float[] out = model.eps(Tensor.of(x2, shape2), t2, context).toFloatArray();
        if (out.length != x2.length) {
            throw new IllegalStateException("model returned " + out.length + " values for a batch of " + x2.length);
        }
        float[] guided = new float[xs.length];
        for (int i = 0; i < guided.length; i++) {
            float uncond = out[i];
            float cond = out[xs.length + i];
            guided[i] = uncond + scale * (cond - uncond);
        }
        return Tensor.of(guided, x.shape());
    }
}
