package sdj.train.cd;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import sdj.tensor.DType;
import sdj.tensor.Device;
import sdj.tensor.Tensor;

/**
 * A Custom Diffusion delta as read from any of its layouts: fine-tuned cross-attention weights under full LDM
 * keys ({@code weights}), compressed ones as u·v factors ({@code lowRank}, adobe's compress.py), the modifier
 * tokens and their embedding rows ({@code embed} [n, width], row i for {@code tokens.get(i)}; null when the
 * delta adds no token).
 */
public record CustomDiffusionDelta(Map<String, Tensor> weights, Map<String, LowRankDelta> lowRank, List<String> tokens,
        Tensor embed) {
    public CustomDiffusionDelta {
        weights = Collections.unmodifiableMap(new LinkedHashMap<>(weights));
        lowRank = Collections.unmodifiableMap(new LinkedHashMap<>(lowRank));
        tokens = List.copyOf(tokens);
        int rows = embed == null ? 0 : embed.size(0);
        if (embed != null && embed.dim() != 2 || rows != tokens.size()) {
            throw new IllegalArgumentException("a Custom Diffusion delta needs one embedding row per token: "
                    + tokens.size() + " tokens, embed " + (embed == null ? "none" : java.util.Arrays.toString(embed.shape())));
        }
    }

    /** adobe's names for n tokens: {@code <new1>} … {@code <newn>} (its config's modifier_token). */
    public static List<String> adobeTokens(int n) {
        List<String> t = new ArrayList<>();
        for (int i = 1; i <= n; i++) {
            t.add("<new" + i + ">");
        }
        return t;
    }

    /**
     * A training result: host fp32 copies of the {@code trained} weights (LDM keys) in name order, as
     * {@code get_deltas.py}'s state dict is, and the token rows {@code embed} [n, width] (null: no token).
     */
    public static CustomDiffusionDelta trained(Map<String, Tensor> trained, List<String> tokens, Tensor embed) {
        Map<String, Tensor> weights = new LinkedHashMap<>();
        trained.keySet().stream().sorted().forEach(k -> weights.put(k, host(trained.get(k))));
        return new CustomDiffusionDelta(weights, Map.of(), tokens, embed == null ? null : host(embed));
    }

    /** Only the attn2 to_k/to_v weights: what adobe's get_deltas.py keeps even when crossattn trained q and out too. */
    public CustomDiffusionDelta keysAndValues() {
        Map<String, Tensor> kv = new LinkedHashMap<>();
        weights.forEach((k, w) -> {
            if (FreezeModel.CROSSATTN_KV.trains().test(k)) {
                kv.put(k, w);
            }
        });
        return new CustomDiffusionDelta(kv, lowRank, tokens, embed);
    }

    public boolean compressed() {
        return !lowRank.isEmpty();
    }

    /** Every LDM key the delta sets, full weights first, then compressed ones. */
    public List<String> keys() {
        List<String> k = new ArrayList<>(weights.keySet());
        k.addAll(lowRank.keySet());
        return k;
    }

    /**
     * The fine-tuned weights under their LDM keys, compressed ones rebuilt as W_pre + u·v from {@code base} (as
     * adobe's {@code sample.py --compress}); a key missing from the base is an error naming it.
     */
    public Map<String, Tensor> fullWeights(Map<String, Tensor> base) {
        Map<String, Tensor> out = new LinkedHashMap<>(weights);
        lowRank.forEach((key, low) -> {
            Tensor pre = base.get(key);
            if (pre == null) {
                throw new IllegalArgumentException("the base checkpoint has no '" + key
                        + "', which the compressed delta changes; use the checkpoint the delta was trained from");
            }
            out.put(key, low.apply(pre, key));
        });
        return out;
    }

    private static Tensor host(Tensor t) {
        return Tensor.of(t.to(Device.CPU, DType.F32).toFloatArray(), t.shape());
    }
}
