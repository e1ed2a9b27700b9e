package sdj.shapes;

/**
 * Compares a shape mask with every {@link Shape}'s template stretched onto the mask's bounding box:
 * the soft intersection over union, with the template's pixel coverage from a 4x4 grid of points.
 */
final class TemplateMatch {
    /** The least IoU that counts as a shape at all. */
    static final double MIN_IOU = 0.5;

    private TemplateMatch() {
    }

    /** The shape whose template overlaps the (non-empty) mask best, or null when none reaches {@link #MIN_IOU}. */
    static Shape best(boolean[] mask, int width, int height) {
        int x0 = width;
        int y0 = height;
        int x1 = -1;
        int y1 = -1;
        for (int i = 0; i < mask.length; i++) {
            if (mask[i]) {
                x0 = Math.min(x0, i % width);
                x1 = Math.max(x1, i % width);
                y0 = Math.min(y0, i / width);
                y1 = Math.max(y1, i / width);
            }
        }
        Shape best = null;
        double bestIou = -1;
        for (Shape s : Shape.values()) {
            double iou = iou(s, mask, width, x0, y0, x1, y1);
            if (iou > bestIou) {
                best = s;
                bestIou = iou;
            }
        }
        return bestIou >= MIN_IOU ? best : null;
    }

    /** Soft IoU of {@code shape}'s template on the box of pixels [x0, x1] x [y0, y1] with the mask. */
    static double iou(Shape shape, boolean[] mask, int width, int x0, int y0, int x1, int y1) {
        double cx = (x0 + x1 + 1) / 2.0;
        double cy = (y0 + y1 + 1) / 2.0;
        double halfW = (x1 + 1 - x0) / 2.0;
        double halfH = (y1 + 1 - y0) / 2.0;
        int n = ShapeRenderer.SUPERSAMPLING;
        double intersection = 0;
        double union = 0;
        for (int y = y0; y <= y1; y++) {
            for (int x = x0; x <= x1; x++) {
                int inside = 0;
                for (int j = 0; j < n; j++) {
                    double v = (y + (j + 0.5) / n - cy) / halfH;
                    for (int i = 0; i < n; i++) {
                        if (shape.contains((x + (i + 0.5) / n - cx) / halfW, v)) {
                            inside++;
                        }
                    }
                }
                double t = inside / (double) (n * n);
                double m = mask[y * width + x] ? 1 : 0;
                intersection += Math.min(t, m);
                union += Math.max(t, m);
            }
        }
        return union == 0 ? 0 : intersection / union;
    }
}
