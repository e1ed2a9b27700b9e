package sdj.train.run;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A training config file: JSON ({@link TrainConfigJson}) or, for a name ending in {@code .yaml}/{@code .yml},
 * YAML read with Jackson's YAML module into the same plain map, so both accept the camelCase field names
 * and diffusers' snake_case ones, keep the defaults for what they leave out and name a bad entry in one
 * sentence.
 */
public final class TrainConfigFile {
    private static final ObjectMapper YAML = new YAMLMapper(YAMLFactory.builder().build());

    private TrainConfigFile() {
    }

    /** The file's settings over {@link TrainConfig#defaults()}. */
    public static TrainConfig read(Path file) throws IOException {
        return read(file, TrainConfig.defaults());
    }

    /** The file's settings over {@code base}. */
    public static TrainConfig read(Path file, TrainConfig base) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("Training config " + file + " does not exist; give a JSON or YAML file"
                    + " of TrainConfig settings.");
        }
        return TrainConfigJson.apply(base, settings(file), file.toString());
    }

    /** The file's settings over {@code base}, leaving out the entries named in {@code others} (a method's own). */
    public static TrainConfig read(Path file, TrainConfig base, java.util.Set<String> others) throws IOException {
        Map<String, Object> settings = settings(file);
        settings.keySet().removeAll(others);
        return TrainConfigJson.apply(base, settings, file.toString());
    }

    /**
     * The file's top-level entries as plain Java values (strings, numbers, booleans, null): for a method that takes
     * its own settings out before the rest goes to {@link TrainConfig#with} ({@code sdj train lora}'s rank, …).
     */
    public static Map<String, Object> settings(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("Training config " + file + " does not exist; give a JSON or YAML file"
                    + " of TrainConfig settings.");
        }
        if (!isYaml(file)) {
            return new LinkedHashMap<>(TrainConfigJson.toMapOf(Files.readString(file), file.toString()));
        }
        Object root;
        try {
            JsonNode tree = YAML.readTree(Files.readString(file)); // a file of only comments is a missing node
            root = tree.isMissingNode() ? null : YAML.treeToValue(tree, Object.class);
        } catch (JacksonException e) {
            throw new IllegalArgumentException("Training config " + file + " is not valid YAML ("
                    + e.getOriginalMessage() + "); write it as lines of 'instance_data_dir: …'.", e);
        }
        if (root == null) {
            return new LinkedHashMap<>(); // an empty file or only comments: the defaults
        }
        if (!(root instanceof Map<?, ?> map)) {
            throw new IllegalArgumentException("Training config " + file + " is not a YAML mapping; write it as lines"
                    + " of 'instance_data_dir: …'.");
        }
        Map<String, Object> out = new LinkedHashMap<>();
        map.forEach((k, v) -> out.put(String.valueOf(k), v));
        return out;
    }

    static boolean isYaml(Path file) {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        return name.endsWith(".yaml") || name.endsWith(".yml");
    }
}
