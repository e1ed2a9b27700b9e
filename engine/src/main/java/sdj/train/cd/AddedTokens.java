package sdj.train.cd;

import sdj.tensor.DType;
import sdj.tensor.Device;
import sdj.tensor.Tensor;

/** Starting rows of added tokens: copies of vocabulary rows (adobe's and diffusers' {@code initializer_token}). */
public final class AddedTokens {
    private AddedTokens() {
    }

    /** Rows {@code ids} of {@code table} [V, width] as a new [ids.length, width] host tensor. */
    public static Tensor copyRows(Tensor table, int[] ids) {
        int v = table.size(0);
        int w = table.size(1);
        float[] all = table.to(Device.CPU, DType.F32).toFloatArray();
        float[] out = new float[ids.length * w];
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= v) {
                throw new IllegalArgumentException("initializer token id " + ids[i] + " is outside the vocabulary of "
                        + v + " rows; pick an initializer token of the tokenizer's vocabulary");
            }
            System.arraycopy(all, ids[i] * w, out, i * w, w);
        }
        return Tensor.of(out, ids.length, w);
    }
}
