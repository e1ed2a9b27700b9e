package sdj.train.data;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import sdj.io.Json;

/**
 * The caption of each instance or class image. Precedence, first match wins:
 * <ol>
 *   <li>the {@code text} of the image's line in {@code metadata.jsonl} in the image folder (Hugging Face
 *       "imagefolder" layout: one JSON object per line with {@code file_name} relative to the folder and
 *       {@code text});</li>
 *   <li>{@code name.txt} beside {@code name.png} (kohya layout), UTF-8, trimmed;</li>
 *   <li>the fixed instance or class prompt (diffusers DreamBooth), which so serves as the fallback.</li>
 * </ol>
 * An image with none of the three is an error. Per-image captions win over the fixed prompt so that a
 * folder captioned image by image keeps its captions when a prompt is also given.
 */
final class Captions {
    static final String METADATA = "metadata.jsonl";

    private Captions() {
    }

    static List<TrainingImage> caption(Path dir, List<Path> images, String fixedPrompt) {
        Map<Path, String> fromMetadata = readMetadata(dir, images);
        List<TrainingImage> out = new ArrayList<>(images.size());
        for (Path image : images) {
            String caption = fromMetadata.get(image);
            if (caption == null) {
                caption = sidecar(image);
            }
            if (caption == null) {
                caption = fixedPrompt;
            }
            if (caption == null) {
                throw new DataException("Image " + image + " has no caption; pass an instance prompt, add "
                        + sidecarPath(image).getFileName() + " beside it, or list it in " + METADATA + ".");
            }
            out.add(new TrainingImage(image, caption));
        }
        return out;
    }

    private static Path sidecarPath(Path image) {
        String name = image.getFileName().toString();
        return image.resolveSibling(name.substring(0, name.lastIndexOf('.')) + ".txt");
    }

    private static String sidecar(Path image) {
        Path txt = sidecarPath(image);
        if (!Files.isRegularFile(txt)) {
            return null;
        }
        try {
            return readUtf8(txt).strip();
        } catch (CharacterCodingException e) {
            throw new DataException("Caption file " + txt + " is not valid UTF-8; save it as UTF-8.", e);
        } catch (IOException e) {
            throw new DataException("Caption file " + txt + " cannot be read (" + e.getMessage()
                    + "); check its permissions.", e);
        }
    }

    /** Image → caption from metadata.jsonl; empty when the folder has none. */
    private static Map<Path, String> readMetadata(Path dir, List<Path> images) {
        Path file = dir.resolve(METADATA);
        Map<Path, String> captions = new HashMap<>();
        if (!Files.isRegularFile(file)) {
            return captions;
        }
        List<String> lines;
        try {
            lines = readUtf8(file).lines().toList();
        } catch (CharacterCodingException e) {
            throw new DataException(file + " is not valid UTF-8; save it as UTF-8.", e);
        } catch (IOException e) {
            throw new DataException(file + " cannot be read (" + e.getMessage() + "); check its permissions.", e);
        }
        Map<Path, Path> byNormalPath = new HashMap<>();
        for (Path image : images) {
            byNormalPath.put(image.normalize(), image);
        }
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.isBlank()) {
                continue;
            }
            String where = file + " line " + (i + 1);
            Map<String, Object> entry;
            try {
                entry = Json.parseObject(line);
            } catch (IllegalArgumentException e) {
                throw new DataException(where + " is not a JSON object (" + e.getMessage()
                        + "); write one {\"file_name\": ..., \"text\": ...} object per line.", e);
            }
            if (!(entry.get("file_name") instanceof String name) || !(entry.get("text") instanceof String text)) {
                throw new DataException(where + " lacks a string \"file_name\" or \"text\"; write one {\"file_name\": ..., "
                        + "\"text\": ...} object per line.");
            }
            Path image = byNormalPath.get(dir.resolve(name).normalize());
            if (image == null && !Files.exists(dir.resolve(name))) {
                throw new DataException(where + " names \"" + name + "\" but " + dir.resolve(name)
                        + " does not exist; fix the name or remove the line.");
            }
            if (image == null) {
                throw new DataException(where + " names \"" + name + "\", which is not an image directly inside " + dir
                        + " (png, jpg, jpeg, bmp or webp); fix the name or remove the line.");
            }
            if (captions.put(image, text.strip()) != null) {
                throw new DataException(where + " names \"" + name + "\" a second time; keep one line per image.");
            }
        }
        return captions;
    }

    private static String readUtf8(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        String s = StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(bytes)).toString();
        return s.startsWith("\uFEFF") ? s.substring(1) : s; // a byte-order mark is not part of the caption
    }
}
