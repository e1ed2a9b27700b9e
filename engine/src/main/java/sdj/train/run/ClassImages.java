package sdj.train.run;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import sdj.image.Images;
import sdj.image.PngWriter;
import sdj.io.AtomicFile;
import sdj.sd.pipeline.GenerationRequest;
import sdj.sd.pipeline.StableDiffusion;
import sdj.train.data.DreamBoothData;

/**
 * Tops up a class-image folder for prior preservation, as diffusers' {@code train_dreambooth.py} does:
 * when the folder holds fewer than {@code numClassImages} images, the missing ones are drawn from the
 * base model with the class prompt (its default pipeline: PNDM, our "plms", 50 steps, guidance 7.5, no
 * negative prompt) at the training resolution, {@code sampleBatchSize} per sampler call.
 *
 * <p>File {@code i} of the missing ones is {@code {cur + i}-{sha1}.png}, where cur is the number of
 * images already there and sha1 the hex SHA-1 of the PNG file's bytes (diffusers hashes the raw RGB
 * pixels and writes a .jpg; a lossless PNG keeps the generated pixels exactly). Its seed is
 * {@code seed + cur + i}, so a rerun draws the same images an uninterrupted run would. Each file is
 * written atomically as soon as its batch is done, so a run that stops half way keeps every image
 * already written and the next run makes only the rest.
 */
public final class ClassImages {
    /** diffusers' default pipeline scheduler for SD v1 is PNDM, whose PLMS steps are our "plms". */
    public static final String SAMPLER = "plms";
    /** {@code StableDiffusionPipeline}'s default guidance scale. */
    public static final float GUIDANCE = 7.5f;
    private static final StableDiffusion.Listener QUIET = (step, steps) -> { };

    /** Told after each class image is written (a progress display; tests inject a crash here). */
    public interface Listener {
        Listener NONE = (file, done, total) -> { };

        /** @param done images written so far by this call, of {@code total} missing */
        void written(Path file, int done, int total) throws IOException;
    }

    private ClassImages() {
    }

    /** The images directly in {@code dir} that the training data would read; 0 when it does not exist. */
    public static int count(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        try (Stream<Path> files = Files.list(dir)) {
            return (int) files.filter(p -> Files.isRegularFile(p) && DreamBoothData.isImageFile(p)).count();
        }
    }

    /**
     * Generates the class images {@code config.classDataDir()} lacks (nothing when prior preservation is
     * off or enough are there); returns the files written, in index order.
     */
    public static List<Path> fill(TrainConfig config, long seed, StableDiffusion pipeline, Listener listener)
            throws IOException {
        return fill(config, seed, pipeline, listener, Sampling.DIFFUSERS);
    }

    /** How class images are drawn: diffusers' pipeline defaults, or adobe Custom Diffusion's {@code sample.py}. */
    public record Sampling(String sampler, float guidance, double eta) {
        /** PNDM (our "plms"), guidance 7.5. */
        public static final Sampling DIFFUSERS = new Sampling(SAMPLER, GUIDANCE, 0.0);
        /** adobe's {@code scripts/finetune_gen.sh}: DDIM, eta 1, scale 6 (steps: classInferenceSteps, 50). */
        public static final Sampling ADOBE = new Sampling("ddim", 6f, 1.0);
    }

    /** As above, drawn with {@code sampling}. */
    public static List<Path> fill(TrainConfig config, long seed, StableDiffusion pipeline, Listener listener,
            Sampling sampling) throws IOException {
        if (!config.withPriorPreservation()) {
            return List.of();
        }
        Path dir = Path.of(config.classDataDir());
        int have = count(dir);
        int missing = config.numClassImages() - have;
        if (missing <= 0) {
            return List.of();
        }
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new IllegalArgumentException("Class image folder " + dir + " is a file, not a folder; pass a folder"
                    + " for the " + missing + " class images to generate.");
        }
        Files.createDirectories(dir);
        List<Path> written = new ArrayList<>();
        for (int done = 0; done < missing; done += config.sampleBatchSize()) {
            int batch = Math.min(config.sampleBatchSize(), missing - done);
            GenerationRequest request = request(config, seed + have + done, batch, sampling);
            for (StableDiffusion.GeneratedImage image : pipeline.generate(request, QUIET)) {
                byte[] png = png(image);
                Path file = dir.resolve((have + done + image.index()) + "-" + sha1(png) + ".png");
                AtomicFile.write(file, png);
                written.add(file);
                listener.written(file, written.size(), missing);
            }
        }
        return written;
    }

    /** The sampler call for {@code batch} class images, the first with seed {@code firstSeed}. */
    static GenerationRequest request(TrainConfig config, long firstSeed, int batch, Sampling sampling) {
        return new GenerationRequest(config.classPrompt(), "", sampling.sampler(), false, config.classInferenceSteps(),
                sampling.guidance(), firstSeed, config.resolution(), config.resolution(), batch, 1, sampling.eta(), null,
                1.0, null);
    }

    /** The image as a PNG file without text chunks, so equal pixels give equal bytes and names. */
    static byte[] png(StableDiffusion.GeneratedImage image) {
        var rgb = Images.fromTensor(image.pixels(), 0); // TYPE_INT_RGB: getRGB is the packed pixels
        int w = rgb.getWidth();
        int h = rgb.getHeight();
        return PngWriter.encode(rgb.getRGB(0, 0, w, h, null, 0, w), w, h, Map.of());
    }

    static String sha1(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-1", e);
        }
    }
}
