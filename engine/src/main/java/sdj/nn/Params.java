package sdj.nn;

import sdj.tensor.Tensor;

/** A prefix-scoped view of a {@link ParameterStore}: {@code p.sub("in_layers").sub("0").weight(...)}. */
public final class Params {
    private final ParameterStore store;
    private final String prefix;

    Params(ParameterStore store, String prefix) {
        this.store = store;
        this.prefix = prefix;
    }

    public Params sub(String name) {
        return new Params(store, prefix + name + ".");
    }

    public Params sub(int index) {
        return sub(Integer.toString(index));
    }

    public Tensor get(String name, ParameterStore.Init init, int... shape) {
        return store.take(prefix + name, shape, init);
    }

    public Tensor get(String name, int... shape) {
        return get(name, ParameterStore.Init.FAN_IN, shape);
    }

    public String prefix() {
        return prefix;
    }
}
