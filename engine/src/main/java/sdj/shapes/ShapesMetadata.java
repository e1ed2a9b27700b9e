package sdj.shapes;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import sdj.io.Json;

/** Reads a shapes dataset's {@code metadata.jsonl}: each image's file name and expected attributes. */
public final class ShapesMetadata {
    /** One line: the image file (relative to the folder) and what it should show. */
    public record Entry(String fileName, ShapeAttributes expected) {
    }

    private ShapesMetadata() {
    }

    /** The entries of {@code dir/metadata.jsonl}, in file order. */
    public static List<Entry> read(Path dir) throws IOException {
        Path file = dir.resolve(ShapesDataset.METADATA_FILE);
        if (!Files.isRegularFile(file)) {
            throw new IOException("There is no " + file + ": give a folder written by 'sdj data shapes'.");
        }
        List<Entry> out = new ArrayList<>();
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).isBlank()) {
                continue;
            }
            Map<String, Object> o;
            try {
                o = Json.parseObject(lines.get(i));
            } catch (IllegalArgumentException e) {
                throw new IOException(file + " line " + (i + 1) + " is not a JSON object: " + e.getMessage(), e);
            }
            out.add(new Entry(field(o, "file_name", file, i), new ShapeAttributes(field(o, "colour", file, i),
                    field(o, "shape", file, i), field(o, "background", file, i))));
        }
        if (out.isEmpty()) {
            throw new IOException(file + " lists no images: give a folder written by 'sdj data shapes'.");
        }
        return out;
    }

    private static String field(Map<String, Object> o, String key, Path file, int line) throws IOException {
        if (!(o.get(key) instanceof String s)) {
            throw new IOException(file + " line " + (line + 1) + " has no string \"" + key
                    + "\": each line needs file_name, colour, shape and background.");
        }
        return s;
    }
}
