package sdj.nn;

/**
 * A layer with a weight matrix that an {@link AdapterRule} can adapt: the store lists every one it
 * built by full LDM module name ({@link ParameterStore#layers()}), which is how a model is walked.
 */
public sealed interface Layer permits Linear, Conv2d {
    /** The full LDM module name, e.g. {@code model.diffusion_model.input_blocks.3.0.op}. */
    String name();

    Parameter weight();

    /** The bias, or null when the layer has none (CompVis to_q/to_k/to_v). */
    Parameter bias();

    /** The adapter a rule attached at construction, or null. */
    LoraAdapter adapter();
}
