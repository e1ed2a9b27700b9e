package sdj.train.run;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import sdj.image.PngWriter;
import sdj.io.Json;

/**
 * {@code OUTDIR/loss.png}: the loss curve of {@code OUTDIR/log.jsonl} drawn with Java2D, step on x and loss on
 * y with tick labels, every step's loss as faint dots joined thinly and the smoothed loss (the progress bar's
 * moving average, weight {@value #SMOOTHING} on the newest step) as a strong line.
 */
public final class LossPlot {
    public static final String FILE = "loss.png";
    public static final int WIDTH = 800;
    public static final int HEIGHT = 500;
    /** The plot area's edges in pixels from the image's edges. */
    static final int LEFT = 80;
    static final int RIGHT = 24;
    static final int TOP = 40;
    static final int BOTTOM = 56;
    static final Color RAW = new Color(0xA8C8EC);
    static final Color SMOOTH = new Color(0x1A4FA0);
    static final double SMOOTHING = 0.1;
    private static final Color GRID = new Color(0xE4E4E4);

    /** One logged step. */
    public record Point(long step, double loss) {
    }

    private LossPlot() {
    }

    /** Reads the log in {@code outputDir} and writes {@code outputDir/loss.png}; returns the PNG's path. */
    public static Path write(Path outputDir) throws IOException {
        Path png = outputDir.resolve(FILE);
        PngWriter.write(png, render(read(outputDir.resolve(TrainLog.FILE))), Map.of("Title", "training loss"));
        return png;
    }

    /** The steps of a log.jsonl whose loss is a number (a diverged step logs null and is left out). */
    public static List<Point> read(Path log) throws IOException {
        if (!Files.isRegularFile(log)) {
            throw new IllegalArgumentException("Training log " + log + " does not exist; run some training steps first.");
        }
        List<Point> points = new ArrayList<>();
        int lineNumber = 0;
        for (String line : Files.readAllLines(log, StandardCharsets.UTF_8)) {
            lineNumber++;
            if (line.isBlank()) {
                continue;
            }
            Map<String, Object> entry;
            try {
                entry = Json.parseObject(line);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("Training log " + log + " line " + lineNumber + " is not a JSON object;"
                        + " remove that line or train again.", e);
            }
            if (entry.get("step") instanceof Number step && entry.get("loss") instanceof Number loss) {
                points.add(new Point(step.longValue(), loss.doubleValue()));
            }
        }
        return points;
    }

    /** The moving average the progress bar shows, one value per point. */
    public static double[] smoothed(List<Point> points) {
        double[] out = new double[points.size()];
        double s = Double.NaN;
        for (int i = 0; i < out.length; i++) {
            double loss = points.get(i).loss();
            s = Double.isNaN(s) ? loss : (1 - SMOOTHING) * s + SMOOTHING * loss;
            out[i] = s;
        }
        return out;
    }

    /** The plot as a {@value #WIDTH}×{@value #HEIGHT} RGB image; an empty list gives empty axes. */
    public static BufferedImage render(List<Point> points) {
        BufferedImage image = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, WIDTH, HEIGHT);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            Axes axes = Axes.of(points);
            drawAxes(g, axes);
            drawCurves(g, axes, points);
            drawTitle(g, points);
        } finally {
            g.dispose();
        }
        return image;
    }

    /** The data ranges shown and their mapping to pixels. */
    record Axes(double x0, double x1, double y0, double y1) {
        static Axes of(List<Point> points) {
            if (points.isEmpty()) {
                return new Axes(0, 1, 0, 1);
            }
            double minX = points.getFirst().step();
            double maxX = points.getLast().step();
            double minY = Double.POSITIVE_INFINITY;
            double maxY = Double.NEGATIVE_INFINITY;
            for (Point p : points) {
                minX = Math.min(minX, p.step());
                maxX = Math.max(maxX, p.step());
                minY = Math.min(minY, p.loss());
                maxY = Math.max(maxY, p.loss());
            }
            if (maxX == minX) {
                minX -= 1;
                maxX += 1;
            }
            double pad = maxY > minY ? 0.05 * (maxY - minY) : Math.max(Math.abs(maxY) * 0.1, 1e-3);
            return new Axes(minX, maxX, minY - pad, maxY + pad);
        }

        double px(double step) {
            return LEFT + (step - x0) / (x1 - x0) * (WIDTH - LEFT - RIGHT);
        }

        double py(double loss) {
            return HEIGHT - BOTTOM - (loss - y0) / (y1 - y0) * (HEIGHT - TOP - BOTTOM);
        }
    }

    private static void drawAxes(Graphics2D g, Axes a) {
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        FontMetrics fm = g.getFontMetrics();
        int left = LEFT;
        int right = WIDTH - RIGHT;
        int top = TOP;
        int bottom = HEIGHT - BOTTOM;
        for (double t : Ticks.of(a.y0(), a.y1())) {
            int y = (int) Math.round(a.py(t));
            g.setColor(GRID);
            g.drawLine(left + 1, y, right, y);
            g.setColor(Color.BLACK);
            g.drawLine(left - 5, y, left, y);
            String label = Ticks.label(t, a.y1() - a.y0());
            g.drawString(label, left - 8 - fm.stringWidth(label), y + fm.getAscent() / 2 - 1);
        }
        for (double t : Ticks.of(a.x0(), a.x1())) {
            if (t != Math.rint(t)) {
                continue; // steps are whole numbers
            }
            int x = (int) Math.round(a.px(t));
            g.setColor(GRID);
            g.drawLine(x, top, x, bottom - 1);
            g.setColor(Color.BLACK);
            g.drawLine(x, bottom, x, bottom + 5);
            String label = Long.toString((long) t);
            g.drawString(label, x - fm.stringWidth(label) / 2, bottom + 8 + fm.getAscent());
        }
        g.setColor(Color.BLACK);
        g.drawRect(left, top, right - left, bottom - top);
        g.drawString("step", (left + right - fm.stringWidth("step")) / 2, HEIGHT - 12);
        Graphics2D rotated = (Graphics2D) g.create();
        rotated.rotate(-Math.PI / 2);
        rotated.drawString("loss", -(top + bottom + fm.stringWidth("loss")) / 2, 18);
        rotated.dispose();
    }

    private static void drawCurves(Graphics2D g, Axes a, List<Point> points) {
        if (points.isEmpty()) {
            return;
        }
        Graphics2D curves = (Graphics2D) g.create(); // the padded ranges keep every point inside the frame
        curves.setColor(RAW);
        curves.setStroke(new BasicStroke(1f));
        curves.draw(line(a, points, null));
        for (Point p : points) {
            curves.fillRect((int) Math.round(a.px(p.step())) - 1, (int) Math.round(a.py(p.loss())) - 1, 3, 3);
        }
        curves.setColor(SMOOTH);
        curves.setStroke(new BasicStroke(2.5f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND));
        curves.draw(line(a, points, smoothed(points)));
        curves.dispose();
    }

    private static Path2D line(Axes a, List<Point> points, double[] values) {
        Path2D.Double path = new Path2D.Double();
        for (int i = 0; i < points.size(); i++) {
            double x = a.px(points.get(i).step());
            double y = a.py(values == null ? points.get(i).loss() : values[i]);
            if (i == 0) {
                path.moveTo(x, y);
            } else {
                path.lineTo(x, y);
            }
        }
        return path;
    }

    private static void drawTitle(Graphics2D g, List<Point> points) {
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
        String title = points.isEmpty() ? "training loss (no steps logged)" : String.format(Locale.ROOT,
                "training loss: %d steps, last smoothed %.4g", points.size(), smoothed(points)[points.size() - 1]);
        g.drawString(title, LEFT, TOP - 14);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        FontMetrics fm = g.getFontMetrics();
        int x = WIDTH - RIGHT - 250;
        g.setColor(RAW);
        g.fillRect(x, TOP - 22, 14, 4);
        g.setColor(Color.DARK_GRAY);
        g.drawString("loss per step", x + 20, TOP - 22 + fm.getAscent() / 2);
        g.setColor(SMOOTH);
        g.fillRect(x + 120, TOP - 22, 14, 4);
        g.setColor(Color.DARK_GRAY);
        g.drawString("smoothed", x + 140, TOP - 22 + fm.getAscent() / 2);
    }
}
