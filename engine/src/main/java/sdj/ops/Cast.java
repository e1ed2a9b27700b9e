package sdj.ops;

import sdj.tensor.Autograd;
import sdj.tensor.DType;
import sdj.tensor.Tensor;

/**
 * A dtype conversion on the tape (torch's {@code x.float()}): {@link Tensor#to(sdj.tensor.Device, DType)} is not
 * recorded, this is; the gradient goes back converted to x's dtype. Mixed-precision training computes its loss
 * in fp32 from an fp16/bf16 prediction this way, as diffusers' {@code F.mse_loss(model_pred.float(), …)}.
 */
public final class Cast {
    private Cast() {
    }

    /** x stored as dtype on its device (x itself when it already is). */
    public static Tensor to(Tensor x, DType dtype) {
        if (x.dtype() == dtype) {
            return x;
        }
        Tensor y = x.to(x.device(), dtype);
        return Autograd.record(y, "cast", new Tensor[] {x}, g -> new Tensor[] {Grads.fit(x, g)});
    }
}
