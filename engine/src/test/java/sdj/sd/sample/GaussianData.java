package sdj.sd.sample;

import sdj.tensor.Tensor;

/**
 * An analytic test denoiser: data x0 ~ N(μ, s²) per element. For x_t = √ᾱ·x0 + √(1−ᾱ)·ε the
 * exact posterior mean is E[x0|x_t] = μ + √ᾱ·s²·(x_t − √ᾱ·μ)/(ᾱ·s² + 1 − ᾱ) and the exact
 * ε-prediction is (x_t − √ᾱ·E[x0|x_t])/√(1−ᾱ). ᾱ at a (possibly fractional) timestep comes from
 * the schedule's σ(t): ᾱ = 1/(1 + σ²), which is what k-diffusion's c_in scaling assumes.
 */
final class GaussianData implements EpsModel {
    final double mu;
    final double s;
    final Schedule schedule;
    int calls;

    GaussianData(double mu, double s, Schedule schedule) {
        this.mu = mu;
        this.s = s;
        this.schedule = schedule;
    }

    double alphaCumprodAt(float t) {
        double sigma = schedule.tToSigma(t);
        return 1 / (1 + sigma * sigma);
    }

    @Override
    public Tensor eps(Tensor x, float[] timesteps) {
        calls++;
        float[] v = x.toFloatArray();
        int per = v.length / timesteps.length;
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            double a = alphaCumprodAt(timesteps[i / per]);
            double sa = Math.sqrt(a);
            double meanX0 = mu + sa * s * s * (v[i] - sa * mu) / (a * s * s + 1 - a);
            out[i] = (float) ((v[i] - sa * meanX0) / Math.sqrt(1 - a));
        }
        return Tensor.of(out, x.shape());
    }

    /**
     * Exact probability-flow ODE solution in the σ (variance-exploding) view: dx/dσ = (x − D)/σ with
     * D = μ + s²/(s² + σ²)·(x − μ) gives x(σ₁) − μ = (x(σ₀) − μ)·√((s² + σ₁²)/(s² + σ₀²)).
     */
    double flow(double x, double sigmaFrom, double sigmaTo) {
        return mu + (x - mu) * Math.sqrt((s * s + sigmaTo * sigmaTo) / (s * s + sigmaFrom * sigmaFrom));
    }
}
