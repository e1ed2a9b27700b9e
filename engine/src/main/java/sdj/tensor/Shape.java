package sdj.tensor;

import java.util.Arrays;

/** Small helpers over int[] shapes: element counts, contiguous strides, broadcasting, dim wrapping. */
public final class Shape {
    private Shape() {
    }

    public static long numel(int[] shape) {
        long n = 1;
        for (int s : shape) {
            n *= s;
        }
        return n;
    }

    public static int[] contiguousStrides(int[] shape) {
        int[] strides = new int[shape.length];
        int s = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            strides[i] = s;
            s *= Math.max(shape[i], 1);
        }
        return strides;
    }

    /** Wraps a possibly negative dim into [0, rank). */
    public static int wrap(int dim, int rank) {
        int d = dim < 0 ? dim + rank : dim;
        if (d < 0 || d >= rank) {
            throw new IllegalArgumentException("dim " + dim + " out of range for a tensor of rank " + rank);
        }
        return d;
    }

    /** NumPy broadcasting of two shapes. */
    public static int[] broadcast(int[] a, int[] b) {
        int rank = Math.max(a.length, b.length);
        int[] out = new int[rank];
        for (int i = 0; i < rank; i++) {
            int da = i - (rank - a.length) >= 0 ? a[i - (rank - a.length)] : 1;
            int db = i - (rank - b.length) >= 0 ? b[i - (rank - b.length)] : 1;
            if (da != db && da != 1 && db != 1) {
                throw new IllegalArgumentException("shapes " + str(a) + " and " + str(b) + " do not broadcast");
            }
            out[i] = da == 1 ? db : da;
        }
        return out;
    }

    /** Resolves one -1 entry of a view/reshape target against the element count. */
    public static int[] infer(int[] shape, long numel) {
        int[] out = shape.clone();
        int unknown = -1;
        long known = 1;
        for (int i = 0; i < out.length; i++) {
            if (out[i] == -1) {
                if (unknown >= 0) {
                    throw new IllegalArgumentException("only one dimension can be -1 in " + str(shape));
                }
                unknown = i;
            } else {
                known *= out[i];
            }
        }
        if (unknown >= 0) {
            if (known == 0 || numel % known != 0) {
                throw new IllegalArgumentException("cannot view " + numel + " elements as " + str(shape));
            }
            out[unknown] = (int) (numel / known);
        } else if (known != numel) {
            throw new IllegalArgumentException("cannot view " + numel + " elements as " + str(shape));
        }
        return out;
    }

    public static String str(int[] shape) {
        return Arrays.toString(shape);
    }

    /** The permutation that puts the kept dims first, then the reduced ones, each in order. */
    public static int[] keptFirst(boolean[] reduce) {
        int[] perm = new int[reduce.length];
        int k = 0;
        for (int pass = 0; pass < 2; pass++) {
            for (int d = 0; d < reduce.length; d++) {
                if (reduce[d] == (pass == 1)) {
                    perm[k++] = d;
                }
            }
        }
        return perm;
    }

    /** The sizes of the dims not reduced. */
    public static int[] keptShape(int[] shape, boolean[] reduce) {
        int[] kept = new int[shape.length];
        int k = 0;
        for (int d = 0; d < shape.length; d++) {
            if (!reduce[d]) {
                kept[k++] = shape[d];
            }
        }
        return java.util.Arrays.copyOf(kept, k);
    }
}
