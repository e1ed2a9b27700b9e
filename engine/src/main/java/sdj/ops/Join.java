package sdj.ops;

import java.util.ArrayList;
import java.util.List;
import sdj.backend.cuda.CudaDispatch;
import sdj.tensor.Autograd;
import sdj.tensor.Shape;
import sdj.tensor.Tensor;

/** cat / split / chunk along a dimension, and the zero-padded gradient of narrow. */
public final class Join {
    private Join() {
    }

    public static Tensor cat(List<Tensor> parts, int dim) {
        if (parts.isEmpty()) {
            throw new IllegalArgumentException("cat of no tensors");
        }
        int rank = parts.get(0).dim();
        int d = Shape.wrap(dim, rank);
        int[] outShape = parts.get(0).shape();
        int total = 0;
        for (Tensor p : parts) {
            int[] s = p.shape();
            if (s.length != rank) {
                throw new IllegalArgumentException("cat of tensors of different rank: " + Shape.str(outShape) + " and "
                        + Shape.str(s));
            }
            for (int i = 0; i < rank; i++) {
                if (i != d && s[i] != outShape[i]) {
                    throw new IllegalArgumentException("cat along dim " + d + " of " + Shape.str(outShape) + " and "
                            + Shape.str(s) + ": other dims must match");
                }
            }
            total += s[d];
        }
        outShape[d] = total;
        if (anyCuda(parts)) {
            return CudaDispatch.cat(parts, d, outShape);
        }
        int outer = 1;
        for (int i = 0; i < d; i++) {
            outer *= outShape[i];
        }
        int innerOut = (int) (Shape.numel(outShape) / Math.max(1, outer));
        float[] out = new float[Math.toIntExact(Shape.numel(outShape))];
        int col = 0;
        int[] starts = new int[parts.size()];
        for (int pi = 0; pi < parts.size(); pi++) {
            Tensor p = parts.get(pi);
            starts[pi] = p.size(d);
            float[] v = p.floats();
            int innerP = (int) (p.numel() / Math.max(1, outer));
            for (int o = 0; o < outer; o++) {
                System.arraycopy(v, o * innerP, out, o * innerOut + col, innerP);
            }
            col += innerP;
        }
        Tensor y = Tensor.of(out, outShape);
        Tensor[] inputs = parts.toArray(new Tensor[0]);
        return Autograd.record(y, "cat", inputs, g -> {
            Tensor[] grads = new Tensor[inputs.length];
            int at = 0;
            for (int i = 0; i < inputs.length; i++) {
                grads[i] = g.narrow(d, at, starts[i]).contiguous();
                at += starts[i];
            }
            return grads;
        });
    }

    private static boolean anyCuda(List<Tensor> parts) {
        for (Tensor p : parts) {
            if (p.isCuda()) {
                return true;
            }
        }
        return false;
    }

    /** Views of consecutive pieces of the given sizes along dim. */
    public static List<Tensor> split(Tensor x, int[] sizes, int dim) {
        List<Tensor> out = new ArrayList<>();
        int at = 0;
        for (int s : sizes) {
            out.add(x.narrow(dim, at, s));
            at += s;
        }
        if (at != x.size(dim)) {
            throw new IllegalArgumentException("split sizes sum to " + at + " but dim " + dim + " has " + x.size(dim));
        }
        return out;
    }

    /** n equal pieces along dim (the last may be smaller, as in torch.chunk). */
    public static List<Tensor> chunk(Tensor x, int n, int dim) {
        int len = x.size(dim);
        int step = (len + n - 1) / n;
        List<Integer> sizes = new ArrayList<>();
        for (int at = 0; at < len; at += step) {
            sizes.add(Math.min(step, len - at));
        }
        return split(x, sizes.stream().mapToInt(Integer::intValue).toArray(), dim);
    }

    /** Gradient of narrow: g placed at [start, start+len) along dim of a zero tensor of the input shape. */
    public static Tensor padNarrowGrad(Tensor g, int[] inShape, int dim, int start) {
        if (g.isCuda()) {
            return CudaDispatch.padNarrowGrad(g, inShape, dim, start);
        }
        int outer = 1;
        for (int i = 0; i < dim; i++) {
            outer *= inShape[i];
        }
        int inner = 1;
        for (int i = dim + 1; i < inShape.length; i++) {
            inner *= inShape[i];
        }
        float[] out = new float[Math.toIntExact(Shape.numel(inShape))];
        float[] gv = g.floats();
        int len = g.size(dim);
        int rowIn = inShape[dim] * inner;
        for (int o = 0; o < outer; o++) {
            System.arraycopy(gv, o * len * inner, out, o * rowIn + start * inner, len * inner);
        }
        return Tensor.of(out, inShape);
    }
}
