package sdj.shapes;

import java.util.ArrayDeque;

/** Keeps the largest 4-connected region of a pixel mask, so specks of noise or stray blobs do not count. */
final class ComponentMask {
    private ComponentMask() {
    }

    /** A mask holding only the largest 4-connected region of {@code mask} (all false when it is empty). */
    static boolean[] largest(boolean[] mask, int width, int height) {
        int[] label = new int[mask.length];
        int bestLabel = 0;
        int bestSize = 0;
        int next = 0;
        ArrayDeque<Integer> queue = new ArrayDeque<>();
        for (int start = 0; start < mask.length; start++) {
            if (!mask[start] || label[start] != 0) {
                continue;
            }
            next++;
            int size = 0;
            label[start] = next;
            queue.add(start);
            while (!queue.isEmpty()) {
                int p = queue.poll();
                size++;
                int x = p % width;
                int y = p / width;
                if (x > 0) {
                    visit(mask, label, queue, p - 1, next);
                }
                if (x < width - 1) {
                    visit(mask, label, queue, p + 1, next);
                }
                if (y > 0) {
                    visit(mask, label, queue, p - width, next);
                }
                if (y < height - 1) {
                    visit(mask, label, queue, p + width, next);
                }
            }
            if (size > bestSize) {
                bestSize = size;
                bestLabel = next;
            }
        }
        boolean[] out = new boolean[mask.length];
        for (int i = 0; i < mask.length; i++) {
            out[i] = bestLabel != 0 && label[i] == bestLabel;
        }
        return out;
    }

    private static void visit(boolean[] mask, int[] label, ArrayDeque<Integer> queue, int p, int id) {
        if (mask[p] && label[p] == 0) {
            label[p] = id;
            queue.add(p);
        }
    }
}
