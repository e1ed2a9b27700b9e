package sdj.train.optim;

import java.util.List;
import sdj.nn.Parameter;
import sdj.tensor.Autograd;
import sdj.tensor.Tensor;

/**
 * Parameters that share a learning rate and a weight decay (torch's {@code param_groups} entry). The learning
 * rate is mutable: a schedule sets it before each update.
 */
public final class ParamGroup {
    private final List<Parameter> params;
    private double lr;
    private final double weightDecay;

    public ParamGroup(List<Parameter> params, double lr, double weightDecay) {
        if (!(lr >= 0) || !(weightDecay >= 0)) {
            throw new IllegalArgumentException("a parameter group needs lr ≥ 0 and weight decay ≥ 0, got lr " + lr
                    + ", weight decay " + weightDecay);
        }
        this.params = List.copyOf(params);
        this.lr = lr;
        this.weightDecay = weightDecay;
    }

    public List<Parameter> params() {
        return params;
    }

    public double lr() {
        return lr;
    }

    /** Sets the learning rate of the next updates (what torch's LR schedulers write into the group). */
    public void lr(double value) {
        if (!(value >= 0)) {
            throw new IllegalArgumentException("a learning rate must be ≥ 0, got " + value);
        }
        lr = value;
    }

    public double weightDecay() {
        return weightDecay;
    }

    /** One parameter's update with its gradient, in its group. */
    @FunctionalInterface
    interface Update {
        void apply(Parameter p, Tensor grad, ParamGroup group);
    }

    /** Runs update for every parameter of groups that has a gradient, outside the tape (an optimizer step). */
    static void forEachWithGradient(List<ParamGroup> groups, AdamW.GradientSource grads, Update update) {
        try (var scope = Autograd.noGrad()) {
            for (ParamGroup group : groups) {
                for (Parameter p : group.params()) {
                    Tensor g = grads.of(p);
                    if (g != null) {
                        update.apply(p, g, group);
                    }
                }
            }
        }
    }
}
