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

    /**
     * Marks (or unmarks) the parameter for training: sets {@code requiresGrad} on its tensor. A weight
     * read in place from a memory-mapped checkpoint becomes a heap copy first (copy on write): optimizers
     * update the tensor in place, and the mapped file is read-only.
     */
    public void trainable(boolean flag) {
        trainable = flag;
        if (flag && isMapped(tensor)) {
            tensor = Tensor.of(tensor.toFloatArray(), tensor.shape());
        }
        tensor.requiresGrad(flag);
    }

    /** An fp32 host tensor outside the heap: a weight used in place from a mapped checkpoint. */
    static boolean isMapped(Tensor t) {
        return t.device() == Device.CPU && t.dtype() == DType.F32 && t.storage().heapFloats() == null;
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

    /**
     * Starts the master weights of this fp16/bf16 parameter from {@code exact} (e.g. the checkpoint's fp32 values,
     * before they were rounded into the tensor), so mixed-precision training starts where fp32 training starts.
     */
    public void startMasterFrom(Tensor exact) {
        if (tensor.dtype() == DType.F32 || !Arrays.equals(exact.shape(), tensor.shape())) {
            throw new IllegalArgumentException("parameter '" + name + "' (" + tensor.dtype() + " " + Shape.str(shape())
                    + ") takes fp32 master weights only when it is fp16 or bf16, of its own shape; got "
                    + Shape.str(exact.shape()));
        }
        master = exact.to(Device.CPU, DType.F32).to(tensor.device(), DType.F32); // a half tensor is on the GPU: a copy
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
