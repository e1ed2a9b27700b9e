package sdj.nn;

import sdj.tensor.Profiling;
import sdj.tensor.Tensor;

/**
 * torch.nn.Conv2d with square kernel and stride; weight [out, in, k, k]. Made by {@link Params#conv2d};
 * the padding is symmetric, or per side for CompVis's VAE downsample (bottom and right only). With
 * a matching {@link AdapterRule} it carries a LoCon {@link LoraAdapter}: a down conv with this
 * kernel, stride and padding to rank channels, then a 1×1 up conv.
 */
public final class Conv2d implements Layer {
    private final String name;
    private final Parameter weight;
    private final Parameter bias;
    private final ConvGeometry geometry;
    private final LoraAdapter adapter;

    Conv2d(Params p, int in, int out, ConvGeometry geometry) {
        this.name = p.moduleName();
        this.weight = p.param("weight", out, in, geometry.kernel(), geometry.kernel());
        this.bias = p.param("bias", ParameterStore.Init.ZEROS, out);
        this.geometry = geometry;
        AdapterRule rule = p.store().adapterRuleFor(name);
        this.adapter = rule == null ? null : LoraAdapter.forConv(p, rule, weight, in, out, geometry);
        p.store().register(this);
    }

    public Tensor forward(Tensor x) {
        try (var profiled = Profiling.module(name)) {
            Tensor y = geometry.apply(x, weight.tensor(), bias.tensor());
            return adapter == null || adapter.merged() ? y : y.add(adapter.branch(x));
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
