package sdj.train.cd;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import sdj.tensor.DType;
import sdj.tensor.Device;
import sdj.tensor.Tensor;
import sdj.train.linalg.Svd;

/**
 * adobe's {@code compress.py} for one Custom Diffusion weight: ΔW = W_ft − W_pre (float32), U,S,Vᵀ = svd(ΔW),
 * keep the first r singular values where r is the first index at which the running share ΣS_i/ΣS exceeds the
 * ratio (0.6), so the kept mass is just under 60%; store u = U[:, :r]·diag(S[:r]) and v = Vᵀ[:r]. The SVD runs in
 * float64 ({@link Svd}); the factors are stored as float32.
 */
public final class DeltaCompression {
    /** compress.py's {@code compression_ratio}. */
    public static final double DEFAULT_RATIO = 0.6;

    private DeltaCompression() {
    }

    /**
     * compress.py on a whole delta: every to_k/to_v weight becomes u·v factors against {@code base}; other weights
     * (to_q, to_out in crossattn mode), the tokens and the embedding rows are kept as they are.
     */
    public static CustomDiffusionDelta compress(CustomDiffusionDelta delta, Map<String, Tensor> base) {
        return compress(delta, base, DEFAULT_RATIO);
    }

    /** The same with another {@code compression_ratio}. */
    public static CustomDiffusionDelta compress(CustomDiffusionDelta delta, Map<String, Tensor> base, double ratio) {
        if (delta.compressed()) {
            throw new IllegalArgumentException("the delta is already compressed (it holds u/v factors)");
        }
        Map<String, Tensor> kept = new LinkedHashMap<>();
        List<String> keys = new ArrayList<>();
        delta.weights().forEach((key, w) -> {
            if (!CrossAttentionKeys.isKeyOrValue(key)) {
                kept.put(key, w);
            } else if (!base.containsKey(key)) {
                throw new IllegalArgumentException("the base checkpoint has no '" + key
                        + "'; use the checkpoint the delta was trained from");
            } else {
                keys.add(key);
            }
        });
        // one SVD per layer, independent: spread over the cores (a 1280×768 one takes seconds)
        List<LowRankDelta> factors = keys.parallelStream()
                .map(key -> compress(delta.weights().get(key), base.get(key), key, ratio)).toList();
        Map<String, LowRankDelta> lowRank = new LinkedHashMap<>();
        for (int i = 0; i < keys.size(); i++) {
            lowRank.put(keys.get(i), factors.get(i));
        }
        return new CustomDiffusionDelta(kept, lowRank, delta.tokens(), delta.embed());
    }

    /** Compresses W_ft against W_pre at the default ratio; {@code key} names the weight in messages. */
    public static LowRankDelta compress(Tensor finetuned, Tensor pretrained, String key) {
        return compress(finetuned, pretrained, key, DEFAULT_RATIO);
    }

    public static LowRankDelta compress(Tensor finetuned, Tensor pretrained, String key, double ratio) {
        int[] shape = finetuned.shape();
        if (shape.length != 2 || !Arrays.equals(shape, pretrained.shape())) {
            throw new IllegalArgumentException("cannot compress '" + key + "': the delta weight is "
                    + Arrays.toString(shape) + " but the base weight is " + Arrays.toString(pretrained.shape())
                    + "; use the base checkpoint the delta was trained from");
        }
        int rows = shape[0];
        int cols = shape[1];
        float[] ft = finetuned.to(Device.CPU, DType.F32).toFloatArray();
        float[] pre = pretrained.to(Device.CPU, DType.F32).toFloatArray();
        double[] delta = new double[ft.length];
        for (int i = 0; i < delta.length; i++) {
            delta[i] = ft[i] - pre[i]; // float32 subtraction, as torch does it
        }
        Svd svd = Svd.of(delta, rows, cols);
        double[] s = svd.singularValues();
        int r = keptRank(s, ratio);
        int k = svd.rank();
        double[] u = svd.u();
        double[] vt = svd.vt();
        float[] uOut = new float[rows * r];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < r; j++) {
                uOut[i * r + j] = (float) (u[i * k + j] * s[j]);
            }
        }
        float[] vOut = new float[r * cols];
        for (int j = 0; j < r * cols; j++) {
            vOut[j] = (float) vt[j];
        }
        return new LowRankDelta(Tensor.of(uOut, rows, r), Tensor.of(vOut, r, cols));
    }

    /**
     * compress.py's loop over the descending singular values {@code s}: add s_i/Σs and stop at the first i where
     * the sum exceeds {@code ratio}; that i is the number kept. If it never does (all zero: 0/0 in torch), the
     * loop ends at the last index.
     */
    static int keptRank(double[] s, double ratio) {
        double total = 0;
        for (double v : s) {
            total += v;
        }
        double explained = 0;
        for (int i = 0; i < s.length; i++) {
            explained += s[i] / total;
            if (explained > ratio) {
                return i;
            }
        }
        return s.length - 1;
    }
}
