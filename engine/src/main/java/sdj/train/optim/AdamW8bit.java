package sdj.train.optim;

import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import sdj.nn.Parameter;
import java.util.Arrays;
import sdj.tensor.Shape;
import sdj.tensor.DType;
import sdj.tensor.Tensor;

/**
 * bitsandbytes' {@code AdamW8bit} (block-wise, {@code optimizer_update_8bit_blockwise}) on the CPU: each moment is
 * kept as one byte per element, an index into a {@link DynamicQuantMap} (signed for m, unsigned for v), scaled by
 * the absolute maximum of its block of {@link #BLOCK_SIZE} elements. An update dequantizes m and v, advances them
 * in float32, moves the parameter with them, then requantizes them with the block's new absmax; as in
 * bitsandbytes the weight decay p·(1 − lr·wd) follows the step (torch applies it first: a difference of
 * lr·wd·Δp), and tensors under {@code minQuantizedSize} elements keep fp32 moments (bitsandbytes'
 * {@code min_8bit_size}, 4096). Gradients that are not finite leave their element unchanged, as there.
 *
 * <p>Precision: the map holds 2^(d+1) values in the decade 10^(d−6)..10^(d−5) of the block's absmax, so an element
 * whose moment is two decades below its block's largest is stored with up to ~25% relative error, and a second
 * moment under ~1.6e-7 of the block's (a gradient under ~4e-4 of the block's largest) is stored as 0, which makes
 * that element's next update several lr large. This is bitsandbytes' behaviour too.
 */
public final class AdamW8bit {
    /** bitsandbytes' block size for the block-wise 8-bit optimizers. */
    public static final int BLOCK_SIZE = 256;
    /** bitsandbytes' {@code min_8bit_size}. */
    public static final int MIN_QUANTIZED_SIZE = 4096;

    private static final DynamicQuantMap SIGNED = DynamicQuantMap.of(true);
    private static final DynamicQuantMap UNSIGNED = DynamicQuantMap.of(false);

    private final List<ParamGroup> groups;
    private final double beta1;
    private final double beta2;
    private final double eps;
    private final int minQuantizedSize;
    private final Map<Parameter, State> state = new IdentityHashMap<>();

    /** One parameter's moments: bytes plus block absmax, or plain floats (small tensors, absmax null). */
    private static final class State {
        final byte[] m8;
        final byte[] v8;
        final float[] mAbsmax;
        final float[] vAbsmax;
        final float[] m32;
        final float[] v32;
        long step;

        State(int n, boolean quantized) {
            if (quantized) {
                int blocks = (n + BLOCK_SIZE - 1) / BLOCK_SIZE;
                m8 = new byte[n];
                v8 = new byte[n];
                mAbsmax = new float[blocks]; // absmax 0: every element dequantizes to 0, whatever its byte
                vAbsmax = new float[blocks];
                m32 = null;
                v32 = null;
            } else {
                m8 = null;
                v8 = null;
                mAbsmax = null;
                vAbsmax = null;
                m32 = new float[n];
                v32 = new float[n];
            }
        }
    }

    public AdamW8bit(List<ParamGroup> groups, double beta1, double beta2, double eps, int minQuantizedSize) {
        this.groups = List.copyOf(groups);
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.minQuantizedSize = minQuantizedSize;
    }

    /** One group with bitsandbytes' defaults: betas (0.9, 0.999), eps 1e-8, min_8bit_size 4096. */
    public static AdamW8bit of(List<Parameter> params, double lr, double weightDecay) {
        return new AdamW8bit(List.of(new ParamGroup(params, lr, weightDecay)), AdamW.BETA1, AdamW.BETA2, AdamW.EPS,
                MIN_QUANTIZED_SIZE);
    }

    public List<ParamGroup> groups() {
        return groups;
    }

    /** Sets every group's learning rate (a schedule with one base lr for all groups). */
    public void lr(double value) {
        groups.forEach(g -> g.lr(value));
    }

    /** One update of every parameter that has a gradient. */
    public void step() {
        step(Parameter::gradF32);
    }

    public void step(AdamW.GradientSource grads) {
        ParamGroup.forEachWithGradient(groups, grads, this::update);
    }

    private void update(Parameter p, Tensor grad, ParamGroup group) {
        Tensor w = p.tensor();
        if (w.isCuda() || w.dtype() != DType.F32) {
            throw new IllegalArgumentException("adamw8bit runs on the CPU with fp32 parameters; '" + p.name() + "' is "
                    + w + " (use adamw on CUDA)");
        }
        float[] weights = w.storage().heapFloats();
        if (weights == null || !w.isContiguous()) {
            throw new IllegalArgumentException("adamw8bit updates contiguous fp32 heap tensors; '" + p.name() + "' is " + w);
        }
        if (!Arrays.equals(grad.shape(), w.shape())) {
            throw new IllegalArgumentException("adamw8bit: the gradient of '" + p.name() + "' has shape "
                    + Shape.str(grad.shape()) + ", the parameter " + Shape.str(w.shape()));
        }
        float[] g = grad.floats();
        int n = g.length;
        int base = (int) w.offset();
        State s = state.computeIfAbsent(p, q -> new State(n, n >= minQuantizedSize));
        s.step++;
        // bitsandbytes' float32 scalars: step = −lr·sqrt(1 − β2^k)/(1 − β1^k), ε scaled by sqrt(1 − β2^k)
        float b1 = (float) beta1, b2 = (float) beta2, lr = (float) group.lr(), wd = (float) group.weightDecay();
        float correction1 = 1f - (float) Math.pow(b1, s.step);
        float correction2 = (float) Math.sqrt(1f - (float) Math.pow(b2, s.step));
        float stepSize = -lr * correction2 / correction1;
        float epsScaled = correction2 * (float) eps;
        float decay = wd > 0 ? 1f - lr * wd : 1f; // bitsandbytes decays after the step
        if (s.m8 != null) {
            AdamW8bitBlocks.update(weights, base, g, s.m8, s.mAbsmax, s.v8, s.vAbsmax, SIGNED, UNSIGNED,
                    new AdamW8bitBlocks.Step(b1, b2, stepSize, epsScaled, decay));
            return;
        }
        for (int i = 0; i < n; i++) { // fp32 moments: tensors under the minimum size
            float gi = g[i];
            if (!Float.isFinite(gi)) {
                continue; // the element keeps its moments and weight
            }
            s.m32[i] = s.m32[i] * b1 + (1f - b1) * gi;
            s.v32[i] = s.v32[i] * b2 + (1f - b2) * gi * gi;
            float updated = weights[base + i] + stepSize * (s.m32[i] / ((float) Math.sqrt(s.v32[i]) + epsScaled));
            weights[base + i] = updated * decay;
        }
    }

    /** p's first moment as it is stored, dequantized to fp32 (null before p's first update). */
    public float[] expAvg(Parameter p) {
        State s = state.get(p);
        return s == null ? null : dequantized(s.m8, s.mAbsmax, s.m32, SIGNED);
    }

    /** p's second moment, dequantized (null before p's first update). */
    public float[] expAvgSq(Parameter p) {
        State s = state.get(p);
        return s == null ? null : dequantized(s.v8, s.vAbsmax, s.v32, UNSIGNED);
    }

    /** Whether p's moments are kept in 8 bits (false for tensors under the minimum size, or before an update). */
    public boolean quantized(Parameter p) {
        State s = state.get(p);
        return s != null && s.m8 != null;
    }

    /** The number of updates p has had; 0 before its first. */
    public long stepCount(Parameter p) {
        State s = state.get(p);
        return s == null ? 0 : s.step;
    }

    /**
     * p's state exactly as kept, for a training checkpoint (copies; null before p's first update): the step count and
     * either the 8-bit moments (byte indices into the signed map for m, the unsigned map for v, and each block's
     * absmax, as bitsandbytes' state1/absmax1 and state2/absmax2) or, for tensors under the minimum size, fp32 moments.
     */
    public Saved saved(Parameter p) {
        State s = state.get(p);
        if (s == null) {
            return null;
        }
        return s.m8 != null ? new Saved(s.step, s.m8.clone(), s.mAbsmax.clone(), s.v8.clone(), s.vAbsmax.clone(), null, null)
                : new Saved(s.step, null, null, null, null, s.m32.clone(), s.v32.clone());
    }

    /**
     * Puts back p's state as {@link #saved} gave it (the arrays are copied), so the next updates are those of the run
     * that saved it, bit for bit; null forgets p's state. A state that does not fit p (its size, or 8-bit where p's
     * size keeps fp32 moments, or the reverse) is one sentence.
     */
    public void restore(Parameter p, Saved saved) {
        if (groups.stream().noneMatch(g -> g.params().contains(p))) {
            throw new IllegalArgumentException("parameter '" + p.name() + "' is in no AdamW8bit parameter group;"
                    + " restore only the state of parameters this optimizer updates");
        }
        if (saved == null) {
            state.remove(p);
            return;
        }
        int n = Math.toIntExact(p.numel());
        boolean quantized = n >= minQuantizedSize;
        int blocks = (n + BLOCK_SIZE - 1) / BLOCK_SIZE;
        boolean fits = saved.step() > 0 && (quantized
                ? saved.m8() != null && saved.m8().length == n && saved.v8() != null && saved.v8().length == n
                        && saved.mAbsmax() != null && saved.mAbsmax().length == blocks
                        && saved.vAbsmax() != null && saved.vAbsmax().length == blocks
                : saved.m32() != null && saved.m32().length == n && saved.v32() != null && saved.v32().length == n);
        if (!fits) {
            throw new IllegalArgumentException("AdamW8bit state of '" + p.name() + "' (" + n + " elements) needs a step"
                    + " count ≥ 1 and " + (quantized ? "8-bit moments of " + n + " bytes with " + blocks + " block maxima"
                    : "fp32 moments of " + n + " values") + "; the saved state does not fit (" + saved.describe() + ")");
        }
        State s = new State(n, quantized);
        if (quantized) {
            System.arraycopy(saved.m8(), 0, s.m8, 0, n);
            System.arraycopy(saved.v8(), 0, s.v8, 0, n);
            System.arraycopy(saved.mAbsmax(), 0, s.mAbsmax, 0, blocks);
            System.arraycopy(saved.vAbsmax(), 0, s.vAbsmax, 0, blocks);
        } else {
            System.arraycopy(saved.m32(), 0, s.m32, 0, n);
            System.arraycopy(saved.v32(), 0, s.v32, 0, n);
        }
        s.step = saved.step();
        state.put(p, s);
    }

    /**
     * One parameter's saved state: 8-bit (m8, mAbsmax, v8, vAbsmax set, m32 and v32 null) or fp32 (the reverse).
     *
     * @param step    updates done
     * @param m8      first moment, byte indices into the signed dynamic map
     * @param mAbsmax the first moment's absmax per block of {@link #BLOCK_SIZE}
     * @param v8      second moment, byte indices into the unsigned dynamic map
     * @param vAbsmax the second moment's absmax per block
     * @param m32     first moment in fp32 (tensors under the minimum size)
     * @param v32     second moment in fp32
     */
    public record Saved(long step, byte[] m8, float[] mAbsmax, byte[] v8, float[] vAbsmax, float[] m32, float[] v32) {
        public boolean quantized() {
            return m8 != null;
        }

        String describe() {
            return "step " + step + ", " + (quantized() ? m8.length + " bytes" + (mAbsmax == null ? ""
                    : " with " + mAbsmax.length + " block maxima") : m32 == null ? "no moments" : m32.length + " fp32 values");
        }
    }

    private static float[] dequantized(byte[] q, float[] absmax, float[] plain, DynamicQuantMap map) {
        if (q == null) {
            return plain.clone();
        }
        float[] out = new float[q.length];
        for (int i = 0; i < q.length; i++) {
            out[i] = map.value(q[i]) * absmax[i / BLOCK_SIZE];
        }
        return out;
    }
}
