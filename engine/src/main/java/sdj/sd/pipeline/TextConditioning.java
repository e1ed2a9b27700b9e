package sdj.sd.pipeline;

import java.util.ArrayList;
import java.util.List;
import sdj.ops.Join;
import sdj.sd.clip.ClipTextModel;
import sdj.sd.clip.ClipTokenizer;
import sdj.sd.prompt.PromptChunk;
import sdj.sd.prompt.WeightedTokens;
import sdj.tensor.Autograd;
import sdj.tensor.Tensor;

/**
 * Prompt → cross-attention context, AUTOMATIC1111 style: emphasis weights per token and prompts of
 * any length as 77-token chunks, each encoded separately, weighted (mean-preserving), and
 * concatenated along the token axis. A plain prompt of ≤ 75 tokens gives exactly CompVis's
 * single-chunk context.
 */
public final class TextConditioning {
    private final ClipTextModel clip;
    private final ClipTokenizer tokenizer;

    public TextConditioning(ClipTextModel clip, ClipTokenizer tokenizer) {
        this.clip = clip;
        this.tokenizer = tokenizer;
    }

    public ClipTokenizer tokenizer() {
        return tokenizer;
    }

    /** Contexts [1, 77·k, width] for the prompt and the negative prompt, padded to the same k. */
    public Tensor[] encodePair(String prompt, String negativePrompt) {
        WeightedTokens cond = WeightedTokens.of(prompt, tokenizer);
        WeightedTokens uncond = WeightedTokens.of(negativePrompt, tokenizer);
        int chunks = Math.max(cond.chunks().size(), uncond.chunks().size());
        return new Tensor[] {encode(cond.padTo(chunks, tokenizer)), encode(uncond.padTo(chunks, tokenizer))};
    }

    public Tensor encode(String prompt) {
        return encode(WeightedTokens.of(prompt, tokenizer));
    }

    private Tensor encode(WeightedTokens tokens) {
        List<Tensor> parts = new ArrayList<>();
        try (var g = Autograd.noGrad()) {
            for (PromptChunk chunk : tokens.chunks()) {
                long[] ids = new long[chunk.ids().length];
                for (int i = 0; i < ids.length; i++) {
                    ids[i] = chunk.ids()[i];
                }
                Tensor hidden = clip.forward(Tensor.ofLongs(ids, 1, ids.length));
                float[] h = hidden.cpu().toFloatArray(); // emphasis weights are applied on the host
                WeightedTokens.applyWeights(h, ids.length, hidden.size(2), chunk.weights());
                parts.add(Tensor.of(h, hidden.shape()));
            }
            return parts.size() == 1 ? parts.get(0) : Join.cat(parts, 1);
        }
    }
}
