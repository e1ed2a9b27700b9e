package sdj.train.cd;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import sdj.tensor.DType;
import sdj.tensor.Device;
import sdj.tensor.Tensor;
import sdj.train.linalg.LinearSolve;

/**
 * adobe's closed-form multi-concept merge ({@code composenW.py}, {@code gdupdateWexact}), step 4 of the
 * sd-tiny-train README section B, in float64: for each layer with pretrained W0 [C,w],
 * M = C_regᵀC_reg, d = (M⁻¹C_tᵀ)ᵀ, e2 = d·C_tᵀ, e1 = V_tᵀ − W0·C_tᵀ, W = W0 + e1·e2⁻¹·d, where V_t[i] = W_k·C_t[i]
 * with W_k the fine-tuned weight of the concept that target row i belongs to. W keeps the layer's outputs on
 * the regularization features as close as possible to W0's (least squares) while mapping every target
 * feature exactly as its own concept's fine-tuned weight does. adobe runs this in float32, which is
 * meaningless for the ill-conditioned M that LayerNorm outputs give (README B); here it is float64 throughout.
 */
public final class ConceptMerge {
    /** 1-norm condition numbers above this lose more than 12 of float64's ~16 digits: worth a warning. */
    public static final double ILL_CONDITIONED = 1e12;

    private final int width;
    private final double[] cTarget; // m×w
    private final int[] concept; // m, index into the fine-tuned weight maps
    private final double[] d; // m×w
    private final double[] e2Inverse; // m×m
    private final double conditionNumber;

    /**
     * Prepares the layer-independent part from C_reg [n,w] and C_t [m,w] (float32 features, as read or computed);
     * {@code concept[i]} (0-based) is the concept of target row i.
     */
    public ConceptMerge(float[] cReg, float[] cTarget, int[] concept, int width) {
        this.width = width;
        int n = cReg.length / width;
        int m = cTarget.length / width;
        if (concept.length != m) {
            throw new IllegalArgumentException(m + " target rows but " + concept.length + " concept labels");
        }
        if (n < width) {
            throw new IllegalArgumentException("the regularization captions give only " + n + " feature rows for "
                    + width + "-wide features, so C_regᵀC_reg is singular; use more (or longer) captions");
        }
        this.cTarget = toDouble(cTarget);
        this.concept = concept.clone();
        double[] reg = toDouble(cReg);
        double[] gram = new double[width * width]; // M = C_regᵀ C_reg
        for (int r = 0; r < n; r++) {
            for (int i = 0; i < width; i++) {
                double a = reg[r * width + i];
                for (int j = 0; j < width; j++) {
                    gram[i * width + j] += a * reg[r * width + j];
                }
            }
        }
        LinearSolve mLu = LinearSolve.factor(gram, width, "C_regᵀC_reg (the Gram matrix of the regularization"
                + " features)");
        this.conditionNumber = mLu.conditionNumber1();
        double[] x = mLu.solve(transpose(this.cTarget, m, width), m); // M⁻¹C_tᵀ, w×m
        this.d = transpose(x, width, m);
        double[] e2 = multiplyTransposed(d, m, this.cTarget, m, width); // d·C_tᵀ, m×m
        this.e2Inverse = LinearSolve.factor(e2, m, "d·C_tᵀ (the Gram matrix of the target features; are two targets"
                + " nearly equal?)").inverse();
    }

    /** The 1-norm condition number of C_regᵀC_reg. */
    public double conditionNumber() {
        return conditionNumber;
    }

    /** One sentence when cond(C_regᵀC_reg) is so large that the merged weights are unreliable, else null. */
    public String conditionWarning() {
        if (conditionNumber <= ILL_CONDITIONED) {
            return null;
        }
        return String.format(java.util.Locale.ROOT, "C_regᵀC_reg is ill-conditioned (1-norm condition number %.2e):"
                + " the merged weights depend strongly on the features, though their outputs on the captions do not;"
                + " more varied regularization captions help", conditionNumber);
    }

    /** Merges every key of {@code base} that the fine-tuned maps hold: W0 + Δ·d per key, stored as float32. */
    public Map<String, Tensor> merge(List<String> keys, Map<String, Tensor> base, List<Map<String, Tensor>> fineTuned) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (String key : keys) {
            Tensor w0 = base.get(key);
            if (w0 == null) {
                throw new IllegalArgumentException("the base checkpoint has no '" + key + "'; merge deltas of this model");
            }
            float[][] ft = new float[fineTuned.size()][];
            for (int k = 0; k < ft.length; k++) {
                Tensor w = fineTuned.get(k).get(key);
                if (w == null) {
                    throw new IllegalArgumentException("delta " + (k + 1) + " has no '" + key + "'; every delta must"
                            + " hold the same cross-attention weights");
                }
                ft[k] = w.to(Device.CPU, DType.F32).toFloatArray();
            }
            out.put(key, Tensor.of(layer(w0.to(Device.CPU, DType.F32).toFloatArray(), ft), w0.shape()));
        }
        return out;
    }

    /** W = W0 + e1·e2⁻¹·d for one layer; W0 and each fine-tuned W_k are row-major C×w. */
    float[] layer(float[] w0, float[][] fineTuned) {
        int rows = w0.length / width;
        int m = concept.length;
        double[] e1 = new double[rows * m]; // V_tᵀ − W0·C_tᵀ
        for (int c = 0; c < rows; c++) {
            for (int i = 0; i < m; i++) {
                float[] wk = fineTuned[concept[i]];
                double target = 0;
                double pre = 0;
                for (int j = 0; j < width; j++) {
                    double f = cTarget[i * width + j];
                    target += wk[c * width + j] * f;
                    pre += w0[c * width + j] * f;
                }
                e1[c * m + i] = target - pre;
            }
        }
        double[] delta = multiply(e1, rows, m, e2Inverse, m); // C×m
        float[] w = new float[w0.length];
        for (int c = 0; c < rows; c++) {
            for (int j = 0; j < width; j++) {
                double sum = w0[c * width + j];
                for (int i = 0; i < m; i++) {
                    sum += delta[c * m + i] * d[i * width + j];
                }
                w[c * width + j] = (float) sum;
            }
        }
        return w;
    }

    private static double[] toDouble(float[] a) {
        double[] out = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i];
        }
        return out;
    }

    private static double[] transpose(double[] a, int rows, int cols) {
        double[] t = new double[a.length];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                t[j * rows + i] = a[i * cols + j];
            }
        }
        return t;
    }

    /** a [r×k] · b [k×c]. */
    private static double[] multiply(double[] a, int r, int k, double[] b, int c) {
        double[] out = new double[r * c];
        for (int i = 0; i < r; i++) {
            for (int p = 0; p < k; p++) {
                double x = a[i * k + p];
                for (int j = 0; j < c; j++) {
                    out[i * c + j] += x * b[p * c + j];
                }
            }
        }
        return out;
    }

    /** a [r×k] · bᵀ with b [c×k]. */
    private static double[] multiplyTransposed(double[] a, int r, double[] b, int c, int k) {
        double[] out = new double[r * c];
        for (int i = 0; i < r; i++) {
            for (int j = 0; j < c; j++) {
                double sum = 0;
                for (int p = 0; p < k; p++) {
                    sum += a[i * k + p] * b[j * k + p];
                }
                out[i * c + j] = sum;
            }
        }
        return out;
    }
}
