package sdj.sd.sample;

import java.util.ArrayList;
import java.util.List;
import sdj.random.TorchGenerator;

/**
 * k-diffusion {@code sample_lms}: linear multistep of order 4 in σ. Each step integrates the
 * Lagrange polynomial through the last (up to 4) derivatives over [σ_i, σ_{i+1}]; the order ramps
 * up 1, 2, 3, 4 over the first steps.
 */
public final class LmsSampler extends KDiffusionSampler {
    static final int ORDER = 4;

    // 4-point Gauss–Legendre on [-1, 1]: exact for polynomials up to degree 7; the Lagrange basis
    // of an order-4 method has degree 3, so the integral is exact to rounding (k-diffusion uses
    // scipy quad with epsrel 1e-4 for the same integral).
    private static final double[] GL_NODES = {-0.8611363115940526, -0.3399810435848563, 0.3399810435848563,
        0.8611363115940526};
    private static final double[] GL_WEIGHTS = {0.3478548451374538, 0.6521451548625461, 0.6521451548625461,
        0.3478548451374538};

    public LmsSampler(SamplerOptions options) {
        super(options);
    }

    @Override
    public String name() {
        return "lms";
    }

    /**
     * k-diffusion {@code linear_multistep_coeff(order, t, i, j)}: ∫_{t_i}^{t_{i+1}} ∏_{k≠j} (τ − t_{i−k})/(t_{i−j} − t_{i−k}) dτ,
     * the weight of the derivative from j steps back.
     */
    static double coefficient(int order, float[] t, int i, int j) {
        if (order > 2 * GL_NODES.length) {
            throw new IllegalArgumentException("quadrature is exact only up to order " + 2 * GL_NODES.length);
        }
        if (j >= order) {
            throw new IllegalArgumentException("order " + order + " has no coefficient " + j);
        }
        double a = t[i];
        double b = t[i + 1];
        double half = (b - a) / 2;
        double mid = (a + b) / 2;
        double sum = 0;
        for (int q = 0; q < GL_NODES.length; q++) {
            double tau = mid + half * GL_NODES[q];
            double prod = 1;
            for (int k = 0; k < order; k++) {
                if (k != j) {
                    prod *= (tau - t[i - k]) / ((double) t[i - j] - t[i - k]);
                }
            }
            sum += GL_WEIGHTS[q] * prod;
        }
        return sum * half;
    }

    @Override
    protected Run newRun(float[] sigmas, CompVisDenoiser model, int[] shape, TorchGenerator rng) {
        List<float[]> ds = new ArrayList<>();
        return (x, i) -> {
            float[] denoised = model.denoise(x, sigmas[i]);
            ds.add(CompVisDenoiser.toD(x, denoised, sigmas[i]));
            if (ds.size() > ORDER) {
                ds.remove(0);
            }
            int curOrder = Math.min(i + 1, ORDER);
            float[] update = new float[x.length];
            for (int j = 0; j < curOrder; j++) {
                float c = (float) coefficient(curOrder, sigmas, i, j);
                float[] d = ds.get(ds.size() - 1 - j); // newest first, as zip(coeffs, reversed(ds))
                for (int k = 0; k < x.length; k++) {
                    update[k] = update[k] + c * d[k];
                }
            }
            float[] out = new float[x.length];
            for (int k = 0; k < x.length; k++) {
                out[k] = x[k] + update[k];
            }
            return out;
        };
    }
}
