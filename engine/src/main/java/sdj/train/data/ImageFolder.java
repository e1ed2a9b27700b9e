package sdj.train.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Stream;

/** The image files directly inside a folder, in file-name order (so the data order does not depend on the file system). */
final class ImageFolder {
    static final Set<String> SUFFIXES = Set.of("png", "jpg", "jpeg", "bmp", "webp");

    private ImageFolder() {
    }

    /** @param role how the message names the folder, e.g. "Instance image folder" */
    static List<Path> list(Path dir, String role) {
        if (!Files.exists(dir)) {
            throw new DataException(role + " " + dir + " does not exist; pass an existing folder of images.");
        }
        if (!Files.isDirectory(dir)) {
            throw new DataException(role + " " + dir + " is a file, not a folder; pass the folder that holds the images.");
        }
        List<Path> all;
        try (Stream<Path> s = Files.list(dir)) {
            all = s.sorted((a, b) -> a.getFileName().toString().compareTo(b.getFileName().toString())).toList();
        } catch (IOException e) {
            throw new DataException(role + " " + dir + " cannot be listed (" + e.getMessage()
                    + "); check its permissions.", e);
        }
        if (all.isEmpty()) {
            throw new DataException(role + " " + dir + " is empty; put the training images (png, jpg, jpeg, bmp or webp) in it.");
        }
        List<Path> images = all.stream().filter(p -> Files.isRegularFile(p) && isImage(p)).toList();
        if (images.isEmpty()) {
            throw new DataException(role + " " + dir
                    + " has no images (png, jpg, jpeg, bmp or webp files directly inside it); add some or pass another folder.");
        }
        return images;
    }

    static boolean isImage(Path p) {
        String name = p.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return dot > 0 && SUFFIXES.contains(name.substring(dot + 1).toLowerCase(Locale.ROOT));
    }
}
