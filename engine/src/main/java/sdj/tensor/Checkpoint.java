package sdj.tensor;

import java.util.Arrays;
import java.util.function.Function;

/**
 * {@link Autograd#checkpoint}: trade compute for memory by recomputing a subgraph in backward.
 *
 * <p>Which torch variant: the forward is the reentrant one (fn runs with nothing recorded, one node
 * keeps the inputs), but the backward behaves like the non-reentrant one. When the sweep reaches the
 * node it runs fn again with grad on, on the original inputs, and continues through the recomputed
 * subgraph as part of the same sweep; the inputs are its boundary and collect gradients use by use.
 * A nested backward on detached copies (plain reentrant) would first sum an input's uses inside fn and
 * then add the uses outside, which rounds differently when an input is read several times inside (a
 * residual block reads its input twice) and once outside (a UNet skip). With the splice the sums are the
 * same and, in the UNet, bit-identical (UNetCheckpointingTest). One order still differs: where plain
 * backward would reach an input's upstream in the middle of fn's subgraph (an input computed from
 * another input only for fn), that upstream now waits until the subgraph is done, so such a tensor's
 * uses are added in another order: the same gradient up to rounding.
 * The non-reentrant form proper needs saved-tensor hooks, which this tape has not got: each op's
 * backward closure holds what it saved directly.
 *
 * <p>Unlike torch's reentrant checkpoint the node is recorded whenever fn would have recorded anything
 * (a probe watches the no-grad forward), so frozen inputs with trainable weights inside fn still get
 * gradients. Tensors fn reads that are computed (not leaves such as parameters) and require grad must be
 * passed as inputs, since the subgraph's sweep stops only at the inputs; the probe reports any that is not.
 */
final class Checkpoint {
    private Checkpoint() {
    }

    static Tensor run(Function<Tensor[], Tensor> fn, Tensor[] inputs) {
        if (!Autograd.isGradEnabled()) {
            return fn.apply(inputs); // under noGrad, or inside an outer checkpoint's forward
        }
        Tensor[] saved = inputs.clone();
        Tensor out;
        boolean wouldRecord;
        try (var probe = GradMode.current().probe(saved)) {
            out = fn.apply(saved.clone());
            wouldRecord = probe.hit();
            Tensor captured = probe.captured();
            if (captured != null) {
                // its gradient would be lost: the recomputed subgraph's sweep stops only at the inputs
                throw new IllegalStateException("a checkpointed function read a tensor of shape "
                        + Shape.str(captured.shape()) + " computed outside it (by " + captured.gradFn().name()
                        + ") that requires grad, without taking it as an input; pass it to Autograd.checkpoint"
                        + " among the inputs");
            }
        }
        if (!wouldRecord) {
            return out;
        }
        int[] shape = out.shape();
        // A fresh tensor over the same storage: fn may return an input or a parameter, whose own place in
        // the graph must not be overwritten.
        Tensor result = out.detach();
        result.setGradFn(new GradFn("checkpoint", saved, () -> recompute(fn, saved, shape)));
        return result;
    }

    /** fn again, recorded (backward runs under noGrad), on the inputs the forward saw. */
    private static Tensor recompute(Function<Tensor[], Tensor> fn, Tensor[] saved, int[] forwardShape) {
        Tensor out;
        try (var scope = Autograd.enableGrad()) {
            out = fn.apply(saved.clone());
        }
        if (!Arrays.equals(out.shape(), forwardShape)) {
            throw new IllegalStateException("a checkpointed function returned shape " + Shape.str(out.shape())
                    + " when recomputed in backward but " + Shape.str(forwardShape)
                    + " in the forward; it must compute the same thing on every call");
        }
        return out;
    }
}
