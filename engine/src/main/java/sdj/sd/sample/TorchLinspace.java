package sdj.sd.sample;

/**
 * {@code torch.linspace} element values: torch fills the first half forwards from {@code start}
 * and the second half backwards from {@code end}, so both endpoints come out exact.
 */
final class TorchLinspace {
    private TorchLinspace() {
    }

    static double[] float64(double start, double end, int steps) {
        double[] out = new double[steps];
        if (steps == 1) {
            out[0] = start;
            return out;
        }
        double step = (end - start) / (steps - 1);
        int halfway = steps / 2;
        for (int i = 0; i < steps; i++) {
            out[i] = i < halfway ? start + step * i : end - step * (steps - i - 1);
        }
        return out;
    }

    /** The fp32 variant (torch's default dtype): the step and each element are fp32 arithmetic. */
    static float[] float32(float start, float end, int steps) {
        float[] out = new float[steps];
        if (steps == 1) {
            out[0] = start;
            return out;
        }
        float step = (end - start) / (steps - 1);
        int halfway = steps / 2;
        for (int i = 0; i < steps; i++) {
            out[i] = i < halfway ? start + step * i : end - step * (steps - i - 1);
        }
        return out;
    }
}
