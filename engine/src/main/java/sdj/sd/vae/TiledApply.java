package sdj.sd.vae;

import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import sdj.tensor.DType;
import sdj.tensor.Device;
import sdj.tensor.Tensor;

/**
 * Runs a resolution-changing network (the VAE decoder: ×8, the encoder: ÷8) on overlapping square
 * tiles of a [B, C, H, W] input and blends the tile outputs into one: each output pixel is the
 * weighted mean of the tiles covering it, a tile's weight rising linearly from its edge across one
 * overlap width on every side that has a neighbour (the linear cross-fade diffusers' tiled decode
 * applies between neighbours) and 1 elsewhere. So only one tile's activations exist at a time, and an
 * input that fits in one tile goes through the network whole, giving exactly the untiled result.
 */
final class TiledApply {
    private TiledApply() {
    }

    /**
     * @param tile tile side in input units
     * @param overlap least overlap of neighbouring tiles, in input units
     * @param outNum output units per input unit are outNum / inDen (8/1 decoding, 1/8 encoding)
     * @param inDen tile starts are multiples of inDen so they map to whole output units
     */
    static Tensor apply(Tensor x, int tile, int overlap, int outNum, int inDen, UnaryOperator<Tensor> net) {
        int b = x.size(0);
        int h = x.size(2);
        int w = x.size(3);
        List<Integer> rows = starts(h, tile, overlap);
        List<Integer> cols = starts(w, tile, overlap);
        int outH = h * outNum / inDen;
        int outW = w * outNum / inDen;
        int ramp = overlap * outNum / inDen;
        float[] sum = null;
        float[] weights = new float[outH * outW];
        int channels = 0;
        for (int ri = 0; ri < rows.size(); ri++) {
            for (int ci = 0; ci < cols.size(); ci++) {
                int r0 = rows.get(ri);
                int c0 = cols.get(ci);
                Tensor in = x.narrow(2, r0, Math.min(tile, h)).narrow(3, c0, Math.min(tile, w)).contiguous();
                Tensor out = net.apply(in).to(Device.CPU, DType.F32);
                if (sum == null) {
                    channels = out.size(1);
                    sum = new float[b * channels * outH * outW];
                }
                float[] wy = ramps(out.size(2), ramp, ri > 0, ri < rows.size() - 1);
                float[] wx = ramps(out.size(3), ramp, ci > 0, ci < cols.size() - 1);
                accumulate(out.floats(), out.size(2), out.size(3), r0 * outNum / inDen, c0 * outNum / inDen, wy, wx,
                        sum, weights, b, channels, outH, outW);
            }
        }
        for (int i = 0; i < sum.length; i++) {
            sum[i] /= weights[i % (outH * outW)];
        }
        return Tensor.of(sum, b, channels, outH, outW);
    }

    /** Tile starts along one axis: a stride of tile − overlap, the last tile flush with the end. */
    static List<Integer> starts(int length, int tile, int overlap) {
        List<Integer> out = new ArrayList<>();
        if (length <= tile) {
            out.add(0);
            return out;
        }
        int s = 0;
        for (; s + tile < length; s += tile - overlap) {
            out.add(s);
        }
        out.add(length - tile);
        return out;
    }

    /** A tile's weight along one axis: 1, falling linearly to ~0 over {@code ramp} units at a shared edge. */
    static float[] ramps(int length, int ramp, boolean before, boolean after) {
        float[] w = new float[length];
        for (int i = 0; i < length; i++) {
            float v = 1f;
            if (ramp > 0 && before) {
                v = Math.min(v, (i + 0.5f) / ramp);
            }
            if (ramp > 0 && after) {
                v = Math.min(v, (length - i - 0.5f) / ramp);
            }
            w[i] = v;
        }
        return w;
    }

    private static void accumulate(float[] tile, int th, int tw, int y0, int x0, float[] wy, float[] wx, float[] sum,
            float[] weights, int b, int channels, int outH, int outW) {
        for (int y = 0; y < th; y++) {
            for (int x = 0; x < tw; x++) {
                weights[(y0 + y) * outW + x0 + x] += wy[y] * wx[x];
            }
        }
        for (int n = 0; n < b * channels; n++) {
            for (int y = 0; y < th; y++) {
                int src = (n * th + y) * tw;
                int dst = (n * outH + y0 + y) * outW + x0;
                for (int x = 0; x < tw; x++) {
                    sum[dst + x] += wy[y] * wx[x] * tile[src + x];
                }
            }
        }
    }
}
