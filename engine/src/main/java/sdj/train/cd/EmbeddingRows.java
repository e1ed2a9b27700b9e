package sdj.train.cd;

import java.util.Arrays;
import java.util.List;
import sdj.tensor.DType;
import sdj.tensor.Device;
import sdj.tensor.Tensor;

/** Token embedding vectors ([w] or [1,w] each) stacked into one float32 [n, w] tensor. */
final class EmbeddingRows {
    private EmbeddingRows() {
    }

    /** The rows stacked, or null for none; {@code origin} names the file in errors. */
    static Tensor stack(List<Tensor> rows, String origin) {
        if (rows.isEmpty()) {
            return null;
        }
        int width = rows.get(0).shape()[rows.get(0).dim() - 1];
        float[] out = new float[rows.size() * width];
        for (int i = 0; i < rows.size(); i++) {
            Tensor r = rows.get(i);
            if (r.numel() != width || r.shape()[r.dim() - 1] != width) {
                throw new IllegalArgumentException(origin + ": token embedding " + i + " has shape "
                        + Arrays.toString(r.shape()) + ", expected one vector of " + width);
            }
            System.arraycopy(r.to(Device.CPU, DType.F32).toFloatArray(), 0, out, i * width, width);
        }
        return Tensor.of(out, rows.size(), width);
    }
}
