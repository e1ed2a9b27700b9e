package sdj.backend.cpu;

import sdj.tensor.ActivationArena;
import sdj.tensor.Backend;
import sdj.tensor.Tensor;

/** Row gather from an embedding table and nearest-neighbour ×2 upsampling, with their scatter-add backwards. */
final class CpuLookup {
    private CpuLookup() {
    }

    static Backend.Result embedding(Tensor ids, Tensor weight, boolean keep) {
        long[] idx = ids.toLongArray();
        int vocab = weight.size(0);
        int d = weight.size(1);
        // rows are copied from where the table is: the heap, or in place from a mapped checkpoint
        Tensor w = weight.isContiguous() ? HostWeights.readable(weight) : Tensor.of(weight.toFloatArray(), weight.shape());
        float[] out = new float[idx.length * d];
        for (int i = 0; i < idx.length; i++) {
            if (idx[i] < 0 || idx[i] >= vocab) {
                throw new IndexOutOfBoundsException("token id " + idx[i] + " outside the embedding table of " + vocab
                        + " rows");
            }
            HostWeights.copyRow(w, idx[i], d, out, i * d);
        }
        int[] ishape = ids.shape();
        int[] oshape = java.util.Arrays.copyOf(ishape, ishape.length + 1);
        oshape[ishape.length] = d;
        Tensor y = Tensor.of(out, oshape);
        if (!keep) {
            return Backend.Result.of(y);
        }
        return new Backend.Result(y, gy -> {
            float[] g = gy.floats();
            float[] gw = new float[Math.toIntExact(weight.numel())];
            for (int i = 0; i < idx.length; i++) {
                int row = (int) idx[i] * d;
                for (int j = 0; j < d; j++) {
                    gw[row + j] += g[i * d + j];
                }
            }
            return new Tensor[] {null, Tensor.of(gw, weight.shape())};
        });
    }

    static Backend.Result upsampleNearest2x(Tensor x, boolean keep) {
        int[] s = x.shape();
        int planes = s[0] * s[1];
        int h = s[2];
        int w = s[3];
        float[] xv = x.floats();
        float[] out = ActivationArena.floats(planes * 4 * h * w);
        for (int p = 0; p < planes; p++) {
            for (int i = 0; i < h; i++) {
                int src = (p * h + i) * w;
                int dst0 = (p * 2 * h + 2 * i) * 2 * w;
                for (int j = 0; j < w; j++) {
                    float v = xv[src + j];
                    out[dst0 + 2 * j] = v;
                    out[dst0 + 2 * j + 1] = v;
                }
                System.arraycopy(out, dst0, out, dst0 + 2 * w, 2 * w);
            }
        }
        Tensor y = Tensor.of(out, s[0], s[1], 2 * h, 2 * w);
        if (!keep) {
            return Backend.Result.of(y);
        }
        return new Backend.Result(y, gy -> {
            float[] g = gy.floats();
            float[] gx = new float[xv.length];
            for (int p = 0; p < planes; p++) {
                for (int i = 0; i < h; i++) {
                    int r0 = (p * 2 * h + 2 * i) * 2 * w;
                    int r1 = r0 + 2 * w;
                    for (int j = 0; j < w; j++) {
                        gx[(p * h + i) * w + j] = g[r0 + 2 * j] + g[r0 + 2 * j + 1] + g[r1 + 2 * j] + g[r1 + 2 * j + 1];
                    }
                }
            }
            return new Tensor[] {Tensor.of(gx, s)};
        });
    }
}
