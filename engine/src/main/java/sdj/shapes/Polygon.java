package sdj.shapes;

/** A closed polygon and its even-odd point test (a ray cast to the right). */
record Polygon(double[] xs, double[] ys) {
    boolean contains(double x, double y) {
        boolean inside = false;
        for (int i = 0, j = xs.length - 1; i < xs.length; j = i++) {
            if ((ys[i] > y) != (ys[j] > y)
                    && x < (xs[j] - xs[i]) * (y - ys[i]) / (ys[j] - ys[i]) + xs[i]) {
                inside = !inside;
            }
        }
        return inside;
    }

    /** The regular five-pointed star, one point straight up, inner radius 0.382 of the outer (a pentagram's). */
    static Polygon star() {
        double[] xs = new double[10];
        double[] ys = new double[10];
        double inner = Math.sin(Math.toRadians(18)) / Math.sin(Math.toRadians(126));
        for (int k = 0; k < 10; k++) {
            double angle = Math.toRadians(-90 + 36 * k); // image y grows downwards: -90 degrees is up
            double radius = k % 2 == 0 ? 1 : inner;
            xs[k] = radius * Math.cos(angle);
            ys[k] = radius * Math.sin(angle);
        }
        return new Polygon(xs, ys).fittedToUnitBox();
    }

    /** The same polygon scaled and moved so that its bounding box is exactly [-1, 1] x [-1, 1]. */
    Polygon fittedToUnitBox() {
        double minX = Double.POSITIVE_INFINITY;
        double maxX = Double.NEGATIVE_INFINITY;
        double minY = Double.POSITIVE_INFINITY;
        double maxY = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < xs.length; i++) {
            minX = Math.min(minX, xs[i]);
            maxX = Math.max(maxX, xs[i]);
            minY = Math.min(minY, ys[i]);
            maxY = Math.max(maxY, ys[i]);
        }
        double[] nx = new double[xs.length];
        double[] ny = new double[ys.length];
        for (int i = 0; i < xs.length; i++) {
            nx[i] = 2 * (xs[i] - minX) / (maxX - minX) - 1;
            ny[i] = 2 * (ys[i] - minY) / (maxY - minY) - 1;
        }
        return new Polygon(nx, ny);
    }
}
