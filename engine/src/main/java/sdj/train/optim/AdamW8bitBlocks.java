package sdj.train.optim;

import java.util.stream.IntStream;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * AdamW8bit's update of one tensor with 8-bit moments, block by block on all cores (Java's common pool: the
 * optimizer reaches the CPU backend's own threads only through the Backend SPI): each block is dequantized,
 * advanced in float32 vector lanes, and requantized with its new absmax. Every lane performs the scalar formula's
 * float operations in its order (no fused multiply-adds), so the result does not depend on the vector width or
 * on how the blocks are shared out.
 */
final class AdamW8bitBlocks {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int BLOCK = AdamW8bit.BLOCK_SIZE;
    /** Blocks per task: 256 KiB of weights, so a small tensor stays on the calling thread. */
    static final int BLOCKS_PER_TASK = 256;

    /** The update's float32 scalars, as bitsandbytes computes them for this step. */
    record Step(float beta1, float beta2, float stepSize, float epsScaled, float decay) {
    }

    private AdamW8bitBlocks() {
    }

    /**
     * Updates weights[base, base + n) with gradient g and the moments' codes and block maxima in place.
     * Non-finite gradients leave their element's weight and moments unchanged.
     */
    static void update(float[] weights, int base, float[] g, byte[] m8, float[] mAbsmax, byte[] v8, float[] vAbsmax,
            DynamicQuantMap signed, DynamicQuantMap unsigned, Step s) {
        int n = g.length;
        int blocks = (n + BLOCK - 1) / BLOCK;
        float[] mCode = signed.values(), vCode = unsigned.values();
        int tasks = (blocks + BLOCKS_PER_TASK - 1) / BLOCKS_PER_TASK;
        IntStream range = IntStream.range(0, tasks);
        (tasks > 1 ? range.parallel() : range).forEach(task -> {
            int from = task * BLOCKS_PER_TASK, to = Math.min(blocks, from + BLOCKS_PER_TASK);
            float[] m = new float[BLOCK];
            float[] v = new float[BLOCK];
            int[] lanes = new int[BLOCK];
            for (int b = from; b < to; b++) {
                int start = b * BLOCK;
                int len = Math.min(BLOCK, n - start);
                float mScale = mAbsmax[b], vScale = vAbsmax[b];
                for (int j = 0; j < len; j++) {
                    m[j] = mCode[m8[start + j] & 0xff] * mScale;
                }
                for (int j = 0; j < len; j++) {
                    v[j] = vCode[v8[start + j] & 0xff] * vScale;
                }
                long maxima = advance(weights, base + start, g, start, m, v, len, s);
                mAbsmax[b] = Float.intBitsToFloat((int) (maxima >>> 32));
                vAbsmax[b] = Float.intBitsToFloat((int) maxima);
                requantize(m, mAbsmax[b], m8, start, len, signed, lanes);
                requantize(v, vAbsmax[b], v8, start, len, unsigned, lanes);
            }
        });
    }

    /**
     * Advances one block's moments m, v (dequantized, len elements) and its weights; returns the new maxima of |m|
     * and |v| packed as float bits (m high, v low).
     */
    private static long advance(float[] w, int wAt, float[] g, int gAt, float[] m, float[] v, int len, Step s) {
        float b1 = s.beta1(), b2 = s.beta2(), a1 = 1f - b1, a2 = 1f - b2;
        float stepSize = s.stepSize(), eps = s.epsScaled(), decay = s.decay();
        FloatVector mMax = FloatVector.zero(F), vMax = FloatVector.zero(F);
        int j = 0;
        for (int upper = F.loopBound(len); j < upper; j += F.length()) {
            FloatVector gv = FloatVector.fromArray(F, g, gAt + j);
            VectorMask<Float> finite = gv.abs().compare(VectorOperators.LE, Float.MAX_VALUE);
            FloatVector mOld = FloatVector.fromArray(F, m, j);
            FloatVector vOld = FloatVector.fromArray(F, v, j);
            FloatVector wOld = FloatVector.fromArray(F, w, wAt + j);
            FloatVector mNew = mOld.mul(b1).add(gv.mul(a1));
            FloatVector vNew = vOld.mul(b2).add(gv.mul(a2).mul(gv));
            FloatVector wNew = wOld.add(mNew.div(vNew.sqrt().add(eps)).mul(stepSize)).mul(decay);
            mNew = mOld.blend(mNew, finite);
            vNew = vOld.blend(vNew, finite);
            wOld.blend(wNew, finite).intoArray(w, wAt + j);
            mNew.intoArray(m, j);
            vNew.intoArray(v, j);
            mMax = mMax.max(mNew.abs());
            vMax = vMax.max(vNew.abs());
        }
        float mTop = mMax.reduceLanes(VectorOperators.MAX), vTop = vMax.reduceLanes(VectorOperators.MAX);
        for (; j < len; j++) {
            float gi = g[gAt + j];
            if (Float.isFinite(gi)) {
                m[j] = m[j] * b1 + a1 * gi;
                v[j] = v[j] * b2 + a2 * gi * gi;
                w[wAt + j] = (w[wAt + j] + stepSize * (m[j] / ((float) Math.sqrt(v[j]) + eps))) * decay;
            }
            mTop = Math.max(mTop, Math.abs(m[j]));
            vTop = Math.max(vTop, Math.abs(v[j]));
        }
        return ((long) Float.floatToRawIntBits(mTop) << 32) | (Float.floatToRawIntBits(vTop) & 0xffffffffL);
    }

    /** Stores values[0, len) as codes of map after dividing by absmax (0 when absmax is 0). */
    private static void requantize(float[] values, float absmax, byte[] codes, int at, int len, DynamicQuantMap map,
            int[] lanes) {
        if (absmax == 0) {
            byte zero = map.quantize(0f);
            for (int j = 0; j < len; j++) {
                codes[at + j] = zero;
            }
            return;
        }
        int j = 0;
        for (int upper = F.loopBound(len); j < upper; j += F.length()) {
            FloatVector.fromArray(F, values, j).div(absmax).intoArray(values, j);
        }
        for (; j < len; j++) {
            values[j] = values[j] / absmax;
        }
        map.quantizeUnits(values, len, codes, at, lanes);
    }
}
