package sdj.sd.sample;

/**
 * CompVis {@code make_ddim_timesteps} ("uniform") and {@code make_ddim_sampling_parameters}.
 *
 * <p>Timesteps are {@code range(0, T, T // S) + 1}, so the count can differ from S (S = 30 gives
 * 31 steps) and the last step lands on t = 1. The per-step values mirror CompVis's precision: ᾱ
 * comes from the fp32 buffer, σ is computed in float64 from those fp32 values, and each value is
 * rounded to fp32 where CompVis puts it into a {@code torch.full} tensor.
 */
final class DdimSchedule {
    /** Ascending training timesteps, ddim_timesteps. */
    final int[] timesteps;
    final float[] alphas;
    final float[] alphasPrev;
    final float[] sigmas;
    final float[] sqrtOneMinusAlphas;

    DdimSchedule(Schedule schedule, int steps, double eta) {
        int total = schedule.timesteps();
        if (steps < 1) {
            throw new IllegalArgumentException("need at least 1 sampling step, got " + steps);
        }
        int c = Math.max(1, total / steps);
        int n = (total - 1) / c + 1;
        if ((n - 1) * c + 1 >= total) {
            // The +1 shift would reach timestep T, past the end of the schedule (CompVis fails there too).
            throw new IllegalArgumentException("DDIM/PLMS uniform discretization with " + steps + " steps reaches timestep "
                    + ((n - 1) * c + 1) + " of a " + total + "-step schedule; choose a step count whose spacing "
                    + total + " / steps does not divide " + (total - 1));
        }
        timesteps = new int[n];
        for (int i = 0; i < n; i++) {
            timesteps[i] = i * c + 1;
        }
        alphas = new float[n];
        alphasPrev = new float[n];
        sigmas = new float[n];
        sqrtOneMinusAlphas = new float[n];
        for (int i = 0; i < n; i++) {
            alphas[i] = schedule.alphaCumprod(timesteps[i]);
            alphasPrev[i] = i == 0 ? schedule.alphaCumprod(0) : schedule.alphaCumprod(timesteps[i - 1]);
            double a = alphas[i];
            double ap = alphasPrev[i];
            sigmas[i] = (float) (eta * Math.sqrt((1 - ap) / (1 - a) * (1 - a / ap)));
            sqrtOneMinusAlphas[i] = (float) Math.sqrt(1f - alphas[i]);
        }
    }

    int size() {
        return timesteps.length;
    }

    /**
     * The DDIM update for the step at {@code index} into these arrays, in CompVis's fp32 order:
     * pred_x0 = (x − √(1−a_t)·ε)/√a_t; x_prev = √a_prev·pred_x0 + √(1−a_prev−σ²)·ε + σ·noise.
     * {@code noise} may be null when σ = 0.
     */
    float[] step(float[] x, float[] eps, int index, float[] noise) {
        float sqrtAt = (float) Math.sqrt(alphas[index]);
        float sqrtOneMinusAt = sqrtOneMinusAlphas[index];
        float aPrev = alphasPrev[index];
        float sigma = sigmas[index];
        float dirCoef = (float) Math.sqrt(1f - aPrev - sigma * sigma);
        float sqrtAPrev = (float) Math.sqrt(aPrev);
        float[] out = new float[x.length];
        for (int k = 0; k < x.length; k++) {
            float predX0 = (x[k] - sqrtOneMinusAt * eps[k]) / sqrtAt;
            float dirXt = dirCoef * eps[k];
            float v = sqrtAPrev * predX0 + dirXt;
            out[k] = noise == null ? v : v + sigma * noise[k];
        }
        return out;
    }
}
