package sdj.sd.unet;

import sdj.tensor.Tensor;

/** CompVis {@code timestep_embedding}: [cos(t·f_i), sin(t·f_i)] with f_i = exp(−ln(10000)·i/half). */
public final class TimestepEmbedding {
    private TimestepEmbedding() {
    }

    public static Tensor sinusoidal(float[] timesteps, int dim) {
        int half = dim / 2;
        float[] out = new float[timesteps.length * dim];
        for (int b = 0; b < timesteps.length; b++) {
            for (int i = 0; i < half; i++) {
                // torch computes freqs in fp32: exp(-ln(10000) * arange(half) / half), then t * freqs in fp32
                float freq = (float) Math.exp((float) (-Math.log(10000.0)) * (float) i / half);
                float arg = timesteps[b] * freq;
                out[b * dim + i] = (float) Math.cos(arg);
                out[b * dim + half + i] = (float) Math.sin(arg);
            }
        }
        return Tensor.of(out, timesteps.length, dim);
    }
}
