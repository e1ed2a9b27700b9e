package sdj.ops;

import sdj.backend.cuda.CudaDispatch;
import sdj.tensor.Autograd;
import sdj.tensor.Tensor;

/** Row gather from a [V, D] table by integer ids; backward scatter-adds into the table's gradient. */
public final class Embedding {
    private Embedding() {
    }

    public static Tensor embedding(Tensor ids, Tensor weight) {
        if (ids.isCuda() || weight.isCuda()) {
            return CudaDispatch.embedding(ids, weight);
        }
        long[] idx = ids.toLongArray();
        int vocab = weight.size(0);
        int d = weight.size(1);
        float[] w = weight.floats();
        float[] out = new float[idx.length * d];
        for (int i = 0; i < idx.length; i++) {
            if (idx[i] < 0 || idx[i] >= vocab) {
                throw new IndexOutOfBoundsException("token id " + idx[i] + " outside the embedding table of " + vocab
                        + " rows");
            }
            System.arraycopy(w, (int) idx[i] * d, out, i * d, d);
        }
        int[] ishape = ids.shape();
        int[] oshape = java.util.Arrays.copyOf(ishape, ishape.length + 1);
        oshape[ishape.length] = d;
        Tensor y = Tensor.of(out, oshape);
        return Autograd.record(y, "embedding", new Tensor[] {ids, weight}, gy -> {
            float[] g = gy.floats();
            float[] gw = new float[w.length];
            for (int i = 0; i < idx.length; i++) {
                int row = (int) idx[i] * d;
                for (int j = 0; j < d; j++) {
                    gw[row + j] += g[i * d + j];
                }
            }
            return new Tensor[] {null, Tensor.of(gw, weight.shape())};
        });
    }

}
