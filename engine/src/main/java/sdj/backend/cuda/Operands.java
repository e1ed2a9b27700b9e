package sdj.backend.cuda;

import java.lang.ref.Reference;
import java.util.ArrayList;
import java.util.List;
import sdj.tensor.DType;
import sdj.tensor.Tensor;

/**
 * The device operands of one op call (forward or backward). Checks that every input is on CUDA (one
 * sentence naming the op and both devices otherwise); hands out contiguous {@link CudaTensor} views of the inputs, making a copy where the layout or the
 * dtype needs one. {@link #close()} frees those copies (stream order keeps queued kernels safe) and
 * keeps the inputs reachable until then, so the GC cannot free an input before its kernel is queued.
 */
final class Operands implements AutoCloseable {
    private final Tensor[] inputs;
    private final List<CudaTensor> temps = new ArrayList<>();

    Operands(String op, Tensor... inputs) {
        this.inputs = inputs;
        for (Tensor t : inputs) {
            if (t != null && !t.isCuda()) {
                throw new IllegalArgumentException(op + " got tensors on cpu and cuda; move them to one device first"
                        + " (tensor.to(Device.CUDA) or tensor.cpu())");
            }
        }
    }

    /** t as a contiguous device tensor in its own dtype (null stays null). */
    CudaTensor get(Tensor t) {
        if (t == null) {
            return null;
        }
        if (t.isContiguous()) {
            return CudaStorage.of(t).buffer().slice(t.offset(), t.shape());
        }
        return temp(StridedCopy.contiguous(t));
    }

    /** t as a contiguous device tensor of the given dtype. */
    CudaTensor get(Tensor t, DType dtype) {
        CudaTensor x = get(t);
        if (x == null || x.dtype() == dtype) {
            return x;
        }
        return temp(ElementwiseOps.cast(x, dtype));
    }

    /** Takes ownership of a device buffer made for this call (freed at close). */
    CudaTensor adopt(CudaTensor t) {
        return temp(t);
    }

    private CudaTensor temp(CudaTensor t) {
        temps.add(t);
        return t;
    }

    @Override
    public void close() {
        for (CudaTensor t : temps) {
            t.close();
        }
        Reference.reachabilityFence(inputs);
    }
}
