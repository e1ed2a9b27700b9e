package sdj.sd.sample;

import sdj.tensor.Tensor;

/** The forward process q(x_t | x0): x_t = √ᾱ·x0 + √(1−ᾱ)·ε (LDM {@code q_sample}). */
public final class QSample {
    private QSample() {
    }

    public static Tensor noise(Tensor x0, Tensor eps, double alphaCumprod) {
        float[] a = x0.toFloatArray();
        float[] e = eps.toFloatArray();
        if (a.length != e.length) {
            throw new IllegalArgumentException("latent and noise sizes differ: " + a.length + " vs " + e.length);
        }
        float sa = (float) Math.sqrt(alphaCumprod);
        float s1 = (float) Math.sqrt(1.0 - alphaCumprod);
        float[] out = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = sa * a[i] + s1 * e[i];
        }
        return Tensor.of(out, x0.shape());
    }
}
