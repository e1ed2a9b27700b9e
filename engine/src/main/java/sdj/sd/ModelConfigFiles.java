package sdj.sd;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import sdj.io.Json;
import sdj.io.SafeTensors;
import sdj.sd.clip.ClipConfig;
import sdj.sd.unet.UNetConfig;
import sdj.sd.vae.AutoencoderKL;
import sdj.sd.vae.VaeConfig;

/**
 * Reads model configs: a JSON file {@code {"unet": {...}, "vae": {...}, "clip": {...}}} with the
 * CompVis parameter names (see models/sd-v1.json), or the same three objects stored as JSON
 * strings in a reference file's {@code __metadata__}, with the top-level latent {@code scale_factor}. A
 * missing section or scale factor takes the SD v1 values.
 */
public final class ModelConfigFiles {
    private ModelConfigFiles() {
    }

    public static ModelConfigs read(Path file) throws IOException {
        Map<String, Object> root;
        try {
            root = Json.parseObject(Files.readString(file));
        } catch (IllegalArgumentException e) {
            throw new IOException("model config " + file + " is not valid JSON: " + e.getMessage(), e);
        }
        return fromSections(section(root.get("unet")), section(root.get("vae")), section(root.get("clip")),
                root.get("scale_factor"), file.toString());
    }

    /**
     * The configs of a checkpoint: the JSON file {@code configFile} when given; else those a .safetensors
     * carries in its metadata (sdj's trainers write "unet", "vae", "clip" and "scale_factor" there); else
     * {@code fallback}.
     */
    public static ModelConfigs forCheckpoint(String configFile, Path checkpoint, ModelConfigs fallback)
            throws IOException {
        if (configFile != null) {
            return read(Path.of(configFile));
        }
        if (checkpoint != null && checkpoint.getFileName().toString().endsWith(".safetensors")
                && Files.isRegularFile(checkpoint)) {
            Map<String, String> metadata = SafeTensors.open(checkpoint).metadata();
            if (metadata.containsKey("unet")) {
                return fromMetadata(metadata, checkpoint.toString());
            }
        }
        return fallback;
    }

    /** From safetensors metadata whose values "unet", "vae", "clip" hold JSON objects. */
    public static ModelConfigs fromMetadata(Map<String, String> metadata, String origin) {
        return fromSections(parse(metadata.get("unet"), origin), parse(metadata.get("vae"), origin),
                parse(metadata.get("clip"), origin), metadata.get("scale_factor"), origin);
    }

    private static Map<String, Object> parse(String json, String origin) {
        if (json == null) {
            return Map.of();
        }
        try {
            return Json.parseObject(json);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("model config in the metadata of " + origin + " is not valid JSON: "
                    + e.getMessage(), e);
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> section(Object o) {
        return o instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
    }

    private static ModelConfigs fromSections(Map<String, Object> unet, Map<String, Object> vae, Map<String, Object> clip,
            Object scaleFactor, String origin) {
        try {
            float scale = scaleFactor == null ? AutoencoderKL.SD_V1_SCALE_FACTOR
                    : scaleFactor instanceof String text ? Float.parseFloat(text) : ((Number) scaleFactor).floatValue();
            if (!(scale > 0) || Float.isInfinite(scale)) {
                throw new IllegalArgumentException("model config " + origin + " has scale_factor " + scaleFactor
                        + ": it must be a positive number (SD v1: 0.18215)");
            }
            return new ModelConfigs(UNetConfig.fromMap(unet), VaeConfig.fromMap(vae), ClipConfig.fromMap(clip), scale);
        } catch (ClassCastException | NumberFormatException e) {
            throw new IllegalArgumentException("model config " + origin + " has a value of the wrong type (numbers and "
                    + "lists of numbers expected)", e);
        }
    }
}
