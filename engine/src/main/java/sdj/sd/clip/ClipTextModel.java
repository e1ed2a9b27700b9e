package sdj.sd.clip;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import sdj.nn.Heads;
import sdj.nn.LayerNorm;
import sdj.nn.Linear;
import sdj.nn.Parameter;
import sdj.nn.ParameterStore;
import sdj.nn.Params;
import sdj.ops.Embedding;
import sdj.ops.Unary;
import sdj.tensor.DType;
import sdj.tensor.Device;
import sdj.tensor.Shape;
import sdj.tensor.Tensor;

/**
 * The CLIP text encoder of SD v1 under its checkpoint names
 * ({@code cond_stage_model.transformer.text_model.*}): token + position embeddings, pre-LayerNorm
 * blocks with causal self-attention and a quick-GELU MLP, and a final LayerNorm. Output: the last
 * hidden state [B, 77, width] that the UNet cross-attends to.
 */
public final class ClipTextModel {
    public static final String PREFIX = "cond_stage_model.transformer.text_model";

    private final ClipConfig config;
    private final Parameter tokenEmbedding;
    private final Parameter positionEmbedding;
    private final List<EncoderLayer> layers = new ArrayList<>();
    private final LayerNorm finalLayerNorm;
    private Parameter addedRows; // token rows for ids ≥ the base table's size, or null

    public ClipTextModel(Params p, ClipConfig config) {
        this.config = config;
        Params emb = p.sub("embeddings");
        this.tokenEmbedding = emb.sub("token_embedding").param("weight", ParameterStore.Init.NORMAL_002, config.vocab(),
                config.width());
        this.positionEmbedding = emb.sub("position_embedding").param("weight", ParameterStore.Init.NORMAL_002,
                config.positions(), config.width());
        for (int i = 0; i < config.layers(); i++) {
            layers.add(new EncoderLayer(p.sub("encoder").sub("layers").sub(i), config));
        }
        this.finalLayerNorm = new LayerNorm(p.sub("final_layer_norm"), config.width(), 1e-5f);
    }

    public ClipConfig config() {
        return config;
    }

    public Tensor tokenEmbedding() {
        return tokenEmbedding.tensor();
    }

    /**
     * Appends embedding rows [n, width] for the tokens {@link ClipTokenizer#addToken} numbered after the
     * base table (ids vocab, vocab + 1, … in order, after any rows added before) and returns the one
     * parameter that holds all added rows. It is separate from the frozen base table so that only these
     * rows can train (and be weight-decayed), and the base table is never copied. The rows are copied onto
     * the table's device in its dtype; a later call replaces the returned parameter with a longer one.
     */
    public Parameter addTokenRows(Tensor rows) {
        Tensor table = tokenEmbedding.tensor();
        if (rows.dim() != 2 || rows.size(1) != table.size(1)) {
            throw new IllegalArgumentException("added token rows must have shape [n, " + table.size(1)
                    + "] (the text encoder's width), got " + Shape.str(rows.shape()));
        }
        float[] values = rows.to(Device.CPU, DType.F32).toFloatArray();
        if (addedRows != null) { // all added rows stay in one parameter, in id order
            float[] before = addedRows.tensor().to(Device.CPU, DType.F32).toFloatArray();
            float[] both = Arrays.copyOf(before, before.length + values.length);
            System.arraycopy(values, 0, both, before.length, values.length);
            values = both;
        }
        int count = values.length / table.size(1);
        Tensor placed = Tensor.of(values, count, table.size(1)); // a copy: the caller's tensor stays its own
        if (table.device() != Device.CPU) {
            placed = placed.to(table.device(), table.dtype());
        }
        boolean trainable = addedRows != null && addedRows.trainable();
        addedRows = Parameter.standalone(PREFIX + ".embeddings.token_embedding.added_rows", placed);
        addedRows.trainable(trainable);
        return addedRows;
    }

    /** The parameter holding the added token rows, or null when none were added. */
    public Parameter addedTokenRows() {
        return addedRows;
    }

    /** ids [B, N] (N ≤ positions) → last hidden state [B, N, width]. */
    public Tensor forward(Tensor ids) {
        int n = ids.size(1);
        Tensor tokens = tokenEmbedding.tensor();
        Tensor embedded = addedRows == null
                ? Embedding.embedding(ids.to(tokens.device()), tokens) // ids come from the tokenizer, on the host
                : AddedTokenLookup.embed(ids, tokens, addedRows.tensor());
        Tensor x = embedded.add(positionEmbedding.tensor().narrow(0, 0, n));
        for (EncoderLayer layer : layers) {
            x = layer.forward(x);
        }
        return finalLayerNorm.forward(x);
    }

    /** One pre-LayerNorm transformer block: x + attn(ln1(x)), then + mlp(ln2(x)). */
    static final class EncoderLayer {
        private final LayerNorm layerNorm1;
        private final LayerNorm layerNorm2;
        private final Linear qProj;
        private final Linear kProj;
        private final Linear vProj;
        private final Linear outProj;
        private final Linear fc1;
        private final Linear fc2;
        private final int heads;

        EncoderLayer(Params p, ClipConfig c) {
            int w = c.width();
            Params attn = p.sub("self_attn");
            this.qProj = attn.linear("q_proj", w, w, true);
            this.kProj = attn.linear("k_proj", w, w, true);
            this.vProj = attn.linear("v_proj", w, w, true);
            this.outProj = attn.linear("out_proj", w, w, true);
            this.layerNorm1 = new LayerNorm(p.sub("layer_norm1"), w, 1e-5f);
            this.fc1 = p.sub("mlp").linear("fc1", w, 4 * w, true);
            this.fc2 = p.sub("mlp").linear("fc2", 4 * w, w, true);
            this.layerNorm2 = new LayerNorm(p.sub("layer_norm2"), w, 1e-5f);
            this.heads = c.heads();
        }

        Tensor forward(Tensor x) {
            Tensor h = layerNorm1.forward(x);
            h = Heads.attend(qProj.forward(h), kProj.forward(h), vProj.forward(h), heads, true);
            x = x.add(outProj.forward(h));
            h = fc2.forward(Unary.quickGelu(fc1.forward(layerNorm2.forward(x))));
            return x.add(h);
        }
    }
}
