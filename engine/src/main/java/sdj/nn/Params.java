package sdj.nn;

/**
 * A prefix-scoped view of a {@link ParameterStore}: {@code p.sub("in_layers").conv2d("2", …)} makes the
 * conv {@code <prefix>in_layers.2} with parameters {@code …in_layers.2.weight} and {@code .bias}.
 * Linear layers and convolutions are made here so the store can register them by name and attach
 * the adapters its rules ask for.
 */
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

    /** The parameter {@code <prefix>name}: from the checkpoint (which must have it), or {@code init} in a random store. */
    public Parameter param(String name, ParameterStore.Init init, int... shape) {
        return store.take(prefix + name, shape, init);
    }

    public Parameter param(String name, int... shape) {
        return param(name, ParameterStore.Init.FAN_IN, shape);
    }

    /**
     * Get-or-init: the checkpoint's tensor when it has {@code <prefix>name}, else a new one from
     * {@code init} seeded by {@code seed} mixed with the full name (the same values whatever was
     * created before it). For parameters a checkpoint may lack, such as adapters.
     */
    public Parameter paramOrInit(String name, ParameterStore.Init init, long seed, int... shape) {
        return store.takeOrInit(prefix + name, shape, init, seed);
    }

    /** torch.nn.Linear named {@code <prefix>name}, weight [out, in]. */
    public Linear linear(String name, int in, int out, boolean bias) {
        return new Linear(sub(name), in, out, bias);
    }

    /** torch.nn.Conv2d named {@code <prefix>name}, square kernel, symmetric padding. */
    public Conv2d conv2d(String name, int in, int out, int kernel, int stride, int padding) {
        return new Conv2d(sub(name), in, out, ConvGeometry.symmetric(kernel, stride, padding));
    }

    /** A conv padded per side (top, bottom, left, right), as CompVis's VAE downsample pads (0, 1, 0, 1). */
    public Conv2d conv2d(String name, int in, int out, int kernel, int stride, int padTop, int padBottom, int padLeft,
            int padRight) {
        return new Conv2d(sub(name), in, out, new ConvGeometry(kernel, stride, padTop, padBottom, padLeft, padRight));
    }

    public String prefix() {
        return prefix;
    }

    /** The module this view names: the prefix without its trailing dot. */
    public String moduleName() {
        return prefix.endsWith(".") ? prefix.substring(0, prefix.length() - 1) : prefix;
    }

    ParameterStore store() {
        return store;
    }
}
