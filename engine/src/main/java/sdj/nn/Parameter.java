package sdj.nn;

import java.util.Arrays;
import sdj.ops.InPlace;
import sdj.tensor.Autograd;
import sdj.tensor.DType;
import sdj.tensor.Device;
import sdj.tensor.Shape;
import sdj.tensor.Tensor;

/**
 * One named model parameter: a handle whose tensor can be swapped (moved to another device or dtype,
 * merged with an adapter) while every module that holds the handle keeps reading the current tensor.
 * The trainable flag belongs to the handle, so a swapped-in tensor gets {@code requiresGrad} again.
 * Modules read {@link #tensor()} on each forward; they never keep the tensor itself.
 */
public final class Parameter {
    private final String name;
    private Tensor tensor;
    private boolean trainable;
    private Tensor master; // fp32 weights an optimizer updates for an fp16/bf16 tensor (mixed precision)

    Parameter(String name, Tensor tensor) {
        this.name = name;
        this.tensor = tensor;
    }

    /**
     * A parameter that belongs to no {@link ParameterStore}: rows a model appends at run time, such as
     * the embedding rows of added tokens, which no checkpoint names.
     */
    public static Parameter standalone(String name, Tensor tensor) {
        return new Parameter(name, tensor);
    }

    /** The full checkpoint name, e.g. {@code model.diffusion_model.out.2.weight}. */
    public String name() {
        return name;
    }

    /** The tensor behind the handle now. */
    public Tensor tensor() {
        return tensor;
    }

    public int[] shape() {
        return tensor.shape();
    }

    public long numel() {
        return tensor.numel();
    }

    public boolean trainable() {
        return trainable;
    }

    /** Marks (or unmarks) the parameter for training: sets {@code requiresGrad} on its tensor. */
    public void trainable(boolean flag) {
        trainable = flag;
        tensor.requiresGrad(flag);
    }

    /**
     * Puts {@code replacement} (same shape, e.g. an updated or merged weight) behind the handle; it
     * inherits the trainable flag. The old tensor's gradient stays with the old tensor.
     */
    public void set(Tensor replacement) {
        if (!Arrays.equals(replacement.shape(), tensor.shape())) {
            throw new IllegalArgumentException("parameter '" + name + "' has shape " + Shape.str(tensor.shape())
                    + "; a tensor of shape " + Shape.str(replacement.shape()) + " cannot replace it");
        }
        tensor = replacement;
        if (trainable) {
            tensor.requiresGrad(true);
        }
    }

    /** Converts the tensor in place of the old one: {@link ParameterStore#place} decides the copy. */
    void moveTo(Device device, DType dtype) {
        Tensor exact = master != null ? master : tensor; // the master holds the bits the half tensor lost
        set(ParameterStore.place(exact, device, dtype));
        master = master == null || dtype == DType.F32 ? null : master.to(device, DType.F32);
    }

    /**
     * The fp32 weights an optimizer updates: the tensor itself when it is fp32, else an fp32 copy on its
     * device, made on first use and kept (mixed precision's master weights: small updates that would
     * round away in fp16 accumulate here). After a step, {@link #syncFromMaster} rounds them back.
     */
    public Tensor master() {
        if (tensor.dtype() == DType.F32) {
            return tensor;
        }
        if (master == null) {
            master = tensor.to(tensor.device(), DType.F32);
        }
        return master;
    }

    /** The gradient in fp32 (an fp16/bf16 gradient converted on its device), or null when there is none. */
    public Tensor gradF32() {
        Tensor g = tensor.grad();
        return g == null || g.dtype() == DType.F32 ? g : g.to(g.device(), DType.F32);
    }

    /** Writes the master weights into the tensor, rounded to its dtype (nothing to do for fp32 tensors). */
    public void syncFromMaster() {
        if (master != null) {
            try (var scope = Autograd.noGrad()) {
                InPlace.copy_(tensor, master);
            }
        }
    }

    @Override
    public String toString() {
        return name + " " + tensor.dtype() + " " + Shape.str(tensor.shape()) + (trainable ? " trainable" : "");
    }
}
