package sdj.nn;

import sdj.ops.F;
import sdj.tensor.Profiling;
import sdj.tensor.Tensor;

/**
 * torch.nn.Linear: weight [out, in], optional bias [out]. Made by {@link Params#linear}; when an
 * {@link AdapterRule} matches its name it also carries a {@link LoraAdapter} and computes
 * {@code W·x + b + scale·up(down(dropout(x)))} until the adapter is merged into W.
 */
public final class Linear implements Layer {
    private final String name;
    private final Parameter weight;
    private final Parameter bias;
    private final LoraAdapter adapter;

    Linear(Params p, int in, int out, boolean hasBias) {
        this.name = p.moduleName();
        this.weight = p.param("weight", out, in);
        this.bias = hasBias ? p.param("bias", ParameterStore.Init.ZEROS, out) : null;
        AdapterRule rule = p.store().adapterRuleFor(name);
        this.adapter = rule == null ? null : LoraAdapter.forLinear(p, rule, weight, in, out);
        p.store().register(this);
    }

    public Tensor forward(Tensor x) {
        try (var profiled = Profiling.module(name)) {
            Tensor b = bias == null ? null : bias.tensor();
            return adapter == null || adapter.merged() ? F.linear(x, weight.tensor(), b)
                    : adapter.linearWithBranch(x, weight.tensor(), b);
        }
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public Parameter weight() {
        return weight;
    }

    @Override
    public Parameter bias() {
        return bias;
    }

    @Override
    public LoraAdapter adapter() {
        return adapter;
    }
}
