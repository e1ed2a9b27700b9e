package sdj.train.optim;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import sdj.nn.Parameter;
import sdj.tensor.AdamWStep;
import sdj.tensor.Backends;
import sdj.tensor.DType;
import sdj.tensor.Device;
import sdj.tensor.Shape;
import sdj.tensor.Tensor;

/**
 * torch 1.13's {@code torch.optim.AdamW} (amsgrad and maximize off) over parameter groups. Each parameter keeps its
 * fp32 moments (exp_avg, exp_avg_sq) on its own device and its own step count, which advances only on updates
 * where it has a gradient (a parameter without one is skipped, as in torch). Half-precision parameters are
 * updated through their fp32 master weights ({@link Parameter#master()}), then rounded back into the tensor.
 */
public final class AdamW {
    /** torch's defaults. */
    public static final double BETA1 = 0.9;
    public static final double BETA2 = 0.999;
    public static final double EPS = 1e-8;

    private final List<ParamGroup> groups;
    private final double beta1;
    private final double beta2;
    private final double eps;
    private final Map<Parameter, State> state = new IdentityHashMap<>();

    /** One parameter's optimizer state: exp_avg, exp_avg_sq (fp32, the parameter's device) and its step count. */
    private static final class State {
        final Tensor expAvg;
        final Tensor expAvgSq;
        long step;

        State(Tensor like) {
            this(Backends.of(like.device()).zeros(DType.F32, like.shape()),
                    Backends.of(like.device()).zeros(DType.F32, like.shape()), 0);
        }

        State(Tensor expAvg, Tensor expAvgSq, long step) {
            this.expAvg = expAvg;
            this.expAvgSq = expAvgSq;
            this.step = step;
        }
    }

    public AdamW(List<ParamGroup> groups, double beta1, double beta2, double eps) {
        if (!(eps >= 0)) {
            throw new IllegalArgumentException("AdamW's eps must be ≥ 0, got " + eps);
        }
        new AdamWStep(0, beta1, beta2, eps, 0, 1); // checks the betas with the primitive's own message
        List<Parameter> seen = new ArrayList<>();
        for (ParamGroup g : groups) {
            for (Parameter p : g.params()) {
                if (seen.stream().anyMatch(q -> q == p)) {
                    throw new IllegalArgumentException("parameter '" + p.name() + "' appears in two AdamW parameter"
                            + " groups; give each parameter one group");
                }
                seen.add(p);
            }
        }
        this.groups = List.copyOf(groups);
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
    }

    /** One group with torch's default betas (0.9, 0.999) and eps 1e-8. */
    public static AdamW of(List<Parameter> params, double lr, double weightDecay) {
        return new AdamW(List.of(new ParamGroup(params, lr, weightDecay)), BETA1, BETA2, EPS);
    }

    public List<ParamGroup> groups() {
        return groups;
    }

    /** Sets every group's learning rate (a schedule with one base lr for all groups). */
    public void lr(double value) {
        groups.forEach(g -> g.lr(value));
    }

    /** One update of every parameter that has a gradient ({@link Parameter#gradF32()}). */
    public void step() {
        step(p -> p.gradF32());
    }

    /** Where a trainer keeps gradients apart from the tensors (e.g. clipped fp32 copies of fp16 gradients). */
    @FunctionalInterface
    public interface GradientSource {
        /** The fp32 (or the parameter's dtype) gradient of p, or null to skip p in this update. */
        Tensor of(Parameter p);
    }

    /** One update with the gradients given by grads. */
    public void step(GradientSource grads) {
        ParamGroup.forEachWithGradient(groups, grads, this::update);
    }

    private void update(Parameter p, Tensor grad, ParamGroup group) {
        Tensor weights = p.master(); // the tensor itself when fp32
        State s = state.computeIfAbsent(p, q -> new State(weights));
        s.step++;
        AdamWStep hyper = new AdamWStep(group.lr(), beta1, beta2, eps, group.weightDecay(), s.step);
        Backends.of("adamw", weights, grad, s.expAvg, s.expAvgSq).adamwStep(weights, grad, s.expAvg, s.expAvgSq, hyper);
        if (weights != p.tensor()) {
            p.syncFromMaster();
        }
    }

    /** The number of updates p has had (torch's {@code state['step']}); 0 before its first. */
    public long stepCount(Parameter p) {
        State s = state.get(p);
        return s == null ? 0 : s.step;
    }

    /** p's first moment (exp_avg), fp32 on p's device; null before its first update. Read-only by convention. */
    public Tensor expAvg(Parameter p) {
        State s = state.get(p);
        return s == null ? null : s.expAvg;
    }

    /** p's second moment (exp_avg_sq); null before its first update. */
    public Tensor expAvgSq(Parameter p) {
        State s = state.get(p);
        return s == null ? null : s.expAvgSq;
    }

    /**
     * Puts back p's state as a training checkpoint saved it ({@link #expAvg}, {@link #expAvgSq}, {@link #stepCount}):
     * the moments are copied (fp32, onto p's device), so the given tensors may be read-only file mappings.
     * A step count of 0 forgets p's state, as before its first update.
     */
    public void restore(Parameter p, Tensor expAvg, Tensor expAvgSq, long step) {
        if (groups.stream().noneMatch(g -> g.params().contains(p))) {
            throw new IllegalArgumentException("parameter '" + p.name() + "' is in no AdamW parameter group;"
                    + " restore only the state of parameters this optimizer updates");
        }
        if (step == 0) {
            state.remove(p);
            return;
        }
        int[] shape = p.shape();
        if (step < 0 || !Arrays.equals(expAvg.shape(), shape) || !Arrays.equals(expAvgSq.shape(), shape)) {
            throw new IllegalArgumentException("AdamW state of '" + p.name() + "' needs moments of shape "
                    + Shape.str(shape) + " and a step count ≥ 0; got " + Shape.str(expAvg.shape())
                    + ", " + Shape.str(expAvgSq.shape()) + " and " + step);
        }
        state.put(p, new State(ownCopy(expAvg, p), ownCopy(expAvgSq, p), step));
    }

    private static Tensor ownCopy(Tensor t, Parameter p) {
        Tensor host = Tensor.of(t.to(Device.CPU, DType.F32).toFloatArray().clone(), t.shape());
        return host.to(p.tensor().device(), DType.F32);
    }
}
