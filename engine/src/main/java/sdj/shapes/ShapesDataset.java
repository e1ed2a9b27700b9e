package sdj.shapes;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import sdj.image.PngWriter;
import sdj.io.AtomicFile;
import sdj.io.Json;

/**
 * The seeded generator of the shapes dataset. {@link SplittableRandom}'s algorithm is fixed by its
 * specification, so one seed gives the same samples, pixels and PNG bytes on every machine.
 *
 * @param size          width and height of every image, in pixels
 * @param colours       the colours drawn for shapes and backgrounds (at least two)
 * @param shapes        the shapes drawn
 * @param captionTemplate the caption with {colour}, {shape} and {background} placeholders
 */
public record ShapesDataset(int size, List<Colour> colours, List<Shape> shapes, String captionTemplate) {
    public static final String DEFAULT_CAPTION = "a {colour} {shape} on a {background} background";
    public static final String METADATA_FILE = "metadata.jsonl";

    public ShapesDataset {
        if (size < 16) {
            throw new IllegalArgumentException("image size " + size + " is too small to draw a shape: use 16 or more");
        }
        if (colours.size() < 2) {
            throw new IllegalArgumentException("a shape needs a background of another colour: give at least two colours");
        }
        if (shapes.isEmpty()) {
            throw new IllegalArgumentException("give at least one shape");
        }
        colours = List.copyOf(colours);
        shapes = List.copyOf(shapes);
    }

    /** The default dataset: 64x64, all six colours, the base shapes, the default caption. */
    public static ShapesDataset defaults() {
        return new ShapesDataset(64, List.of(Colour.values()), Shape.baseShapes(), DEFAULT_CAPTION);
    }

    /** The first {@code count} samples of {@code seed}. */
    public List<ShapeSample> samples(long seed, int count) {
        SplittableRandom random = new SplittableRandom(seed);
        List<ShapeSample> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            out.add(draw(random));
        }
        return out;
    }

    /**
     * One sample. The extent is 24..44 px at size 64 (scaled with the size); the margin keeps the
     * whole shape at least 2 px (at 64) inside the image, so its border is pure background.
     */
    ShapeSample draw(SplittableRandom random) {
        Colour colour = colours.get(random.nextInt(colours.size()));
        List<Colour> others = colours.stream().filter(c -> c != colour).toList();
        Colour background = others.get(random.nextInt(others.size()));
        Shape shape = shapes.get(random.nextInt(shapes.size()));
        double scale = size / 64.0;
        double extent = (24 + random.nextInt(21)) * scale;
        double margin = 2 * scale + extent / 2;
        double centreX = margin + random.nextDouble() * (size - 2 * margin);
        double centreY = margin + random.nextDouble() * (size - 2 * margin);
        return new ShapeSample(colour, shape, background, extent, centreX, centreY);
    }

    /** The file name of sample {@code index}: 00000.png, 00001.png, ... */
    public static String fileName(int index) {
        return String.format("%05d.png", index);
    }

    /**
     * Writes {@code count} images and {@code metadata.jsonl} into {@code dir} (created if missing).
     * Images are plain writes (an fsync per file would dominate the time of a large set);
     * metadata.jsonl comes last and atomically, so a folder that has it is complete.
     */
    public List<ShapeSample> write(Path dir, long seed, int count) throws IOException {
        Files.createDirectories(dir);
        List<ShapeSample> samples = samples(seed, count);
        StringBuilder metadata = new StringBuilder();
        for (int i = 0; i < samples.size(); i++) {
            ShapeSample s = samples.get(i);
            Files.write(dir.resolve(fileName(i)), PngWriter.encode(ShapeRenderer.render(s, size), size, size, Map.of()));
            metadata.append(Json.write(s.metadata(fileName(i), captionTemplate))).append('\n');
        }
        AtomicFile.write(dir.resolve(METADATA_FILE), metadata.toString().getBytes(StandardCharsets.UTF_8));
        return samples;
    }
}
