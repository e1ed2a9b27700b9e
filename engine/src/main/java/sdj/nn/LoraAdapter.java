package sdj.nn;

import java.util.SplittableRandom;
import sdj.ops.F;
import sdj.tensor.Autograd;
import sdj.tensor.Tensor;

/**
 * A low-rank adapter on one {@link Linear} or {@link Conv2d} (LoRA; LoCon for convolutions): the layer
 * adds {@code scale·up(down(dropout(x)))} (kohya's dropout site: {@code scale·up(dropout(down(x)))}),
 * {@code scale = alpha / rank}.
 *
 * <p>Parameters, named after the adapted module as in kohya's files (TRAINING-FACTS §4.1), under the
 * full LDM module name M: {@code M.lora_down.weight} [r, in] (Linear) or [r, in, k, k] (conv, same
 * stride and padding as the layer), {@code M.lora_up.weight} [out, r] or [out, r, 1, 1], and
 * {@code M.alpha}, a 0-dim scalar. A later file-format issue only has to map M to kohya's
 * {@code lora_unet_…} or diffusers' names. Each is get-or-init ({@link Params#paramOrInit}): a tensor
 * present in the store's source (a resumed or loaded adapter) wins over the rule; otherwise down is
 * initialised as the rule says, up is zero and alpha is the rule's alpha. The scale uses the alpha
 * actually loaded.
 *
 * <p>{@link #merge()} folds the adapter into the layer's weight (W += scale·up·down, the product
 * taken over the flattened [in·k·k] columns for a conv) and the layer then skips the adapter branch;
 * {@link #unmerge()} puts back the weight exactly as it was before the merge (kept aside, not
 * recomputed as W − ΔW), converted to the weight's current device and dtype if it moved meanwhile.
 */
public final class LoraAdapter {
    public static final String DOWN = "lora_down.weight";
    public static final String UP = "lora_up.weight";
    public static final String ALPHA = "alpha";

    private final String module;
    private final Parameter target;
    private final Parameter down;
    private final Parameter up;
    private final Parameter alpha;
    private final int rank;
    private final float scale;
    private final float dropout;
    private final AdapterRule.DropoutSite dropoutSite;
    private final SplittableRandom dropoutRandom;
    private final ParameterStore store;
    /** Null for a Linear; for a conv the layer's geometry, which the down conv shares. */
    private final ConvGeometry conv;
    /** The layer's weight from before {@link #merge()}; null while unmerged. */
    private Tensor unmergedWeight;

    private LoraAdapter(Params p, AdapterRule rule, Parameter target, int[] downShape, int[] upShape, ConvGeometry conv) {
        this.module = p.moduleName();
        this.target = target;
        this.rank = rule.rank();
        ParameterStore.Init downInit = switch (rule.init()) {
            case KAIMING_UNIFORM -> ParameterStore.Init.FAN_IN; // kaiming_uniform(a=√5): bound √(6/(1+5))/√fan_in
            case GAUSSIAN -> ParameterStore.Init.normal(1.0 / rank);
        };
        this.down = p.paramOrInit(DOWN, downInit, rule.seed(), downShape);
        this.up = p.paramOrInit(UP, ParameterStore.Init.ZEROS, rule.seed(), upShape);
        this.alpha = p.paramOrInit(ALPHA, ParameterStore.Init.constant(rule.alpha()), rule.seed());
        this.scale = p.store().scalarValue(alpha.name(), rule.alpha()) / rank;
        this.dropout = rule.dropout();
        this.dropoutSite = rule.dropoutSite();
        this.dropoutRandom = new SplittableRandom(NameSeeds.of(rule.seed(), module + ".dropout"));
        this.store = p.store();
        this.conv = conv;
    }

    static LoraAdapter forLinear(Params p, AdapterRule rule, Parameter weight, int in, int out) {
        return new LoraAdapter(p, rule, weight, new int[] {rule.rank(), in}, new int[] {out, rule.rank()}, null);
    }

    static LoraAdapter forConv(Params p, AdapterRule rule, Parameter weight, int in, int out, ConvGeometry geometry) {
        int k = geometry.kernel();
        return new LoraAdapter(p, rule, weight, new int[] {rule.rank(), in, k, k}, new int[] {out, rule.rank(), 1, 1},
                geometry);
    }

    /**
     * scale·up(down(dropout(x))), or scale·up(dropout(down(x))) with kohya's dropout site: what the layer adds to
     * its own output while unmerged.
     */
    Tensor branch(Tensor x) {
        Tensor h = scaledHidden(x);
        return conv == null ? F.linear(h, up.tensor(), null) : ConvGeometry.POINTWISE.apply(h, up.tensor(), null);
    }

    /**
     * The adapted Linear's output x·Wᵀ + b + scale·up(down(x)) (dropout as in {@link #branch}) as one sum: the
     * up projection accumulates into the layer's own product, with no full-size intermediate.
     */
    Tensor linearWithBranch(Tensor x, Tensor weight, Tensor bias) {
        return F.linearSum(x, weight, bias, scaledHidden(x), up.tensor());
    }

    /** scale·down(x) with dropout at its site: the rank-sized input of the up projection (scaled there, as it is small). */
    private Tensor scaledHidden(Tensor x) {
        float p = store.training() ? dropout : 0f;
        boolean onInput = dropoutSite == AdapterRule.DropoutSite.INPUT;
        Tensor in = onInput ? F.dropout(x, p, dropoutRandom) : x;
        Tensor d = conv == null ? F.linear(in, down.tensor(), null) : conv.apply(in, down.tensor(), null);
        if (!onInput) {
            d = F.dropout(d, p, dropoutRandom);
        }
        return scale == 1f ? d : d.mul(scale);
    }

    /** ΔW = scale·up·down in the layer weight's shape (on the adapter's device and in its dtype). */
    public Tensor deltaWeight() {
        Tensor u = up.tensor();
        Tensor d = down.tensor();
        try (var g = Autograd.noGrad()) {
            Tensor product = u.reshape(u.size(0), rank).matmul(d.reshape(rank, -1));
            return product.mul(scale).reshape(target.shape());
        }
    }

    /** W ← W + ΔW; the layer stops evaluating the adapter branch. */
    public void merge() {
        if (merged()) {
            throw new IllegalStateException("the adapter on " + module + " is already merged; unmerge it first");
        }
        Tensor w = target.tensor();
        Tensor merged;
        try (var g = Autograd.noGrad()) {
            merged = w.add(deltaWeight().to(w.device(), w.dtype()));
        }
        unmergedWeight = w;
        target.set(ParameterStore.place(merged, w.device(), w.dtype()));
    }

    /** Restores the weight from before {@link #merge()} bit for bit (after a move: in the current device and dtype). */
    public void unmerge() {
        if (!merged()) {
            throw new IllegalStateException("the adapter on " + module + " is not merged");
        }
        Tensor w = target.tensor();
        target.set(ParameterStore.place(unmergedWeight, w.device(), w.dtype()));
        unmergedWeight = null;
    }

    public boolean merged() {
        return unmergedWeight != null;
    }

    /** The adapted module's full LDM name. */
    public String module() {
        return module;
    }

    public Parameter down() {
        return down;
    }

    public Parameter up() {
        return up;
    }

    public Parameter alpha() {
        return alpha;
    }

    public int rank() {
        return rank;
    }

    /** alpha / rank, with the alpha the adapter was built with. */
    public float scale() {
        return scale;
    }

    /** True for the two trainable adapter tensors of any module ({@code .lora_down.weight}, {@code .lora_up.weight}). */
    public static boolean isAdapterWeight(String parameterName) {
        return parameterName.endsWith("." + DOWN) || parameterName.endsWith("." + UP);
    }
}
