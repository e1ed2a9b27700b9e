package sdj.train.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import sdj.tensor.Tensor;

/**
 * Training images for Custom Diffusion with adobe's CompVis dataset semantics (TRAINING-FACTS §1.4): per concept,
 * with regularization images the concept contributes 2·N_reg items (the second half instance images, item
 * i ↦ instance i mod N_inst, the first half class image i mod N_reg), else N_inst items; the concepts' items are
 * concatenated and each epoch visits them in a seeded order. Every image is center-cropped to a square and flipped
 * with p = 0.5 (randomFlip); instance images get {@link ScaleAugment} (caption prefix and latent mask) unless
 * augmentation is off. A batch puts its instance samples first.
 *
 * <p>A class folder is adobe's retrieval layout when it holds {@code images.txt} and {@code caption.txt} (one image
 * path and one caption per line; a path that does not exist is looked up in {@code images/} by file name), else a
 * plain folder captioned with the class prompt.
 */
public final class CustomDiffusionData {
    /** One concept: its instance images and caption, and optionally class images (null folder: none). */
    public record Concept(Path instanceDir, String instancePrompt, Path classDir, String classPrompt) {
    }

    /** A prepared batch: pixels [n, 3, r, r] (instances first), captions, latent masks [n, 1, r/8, r/8]. */
    public record CdBatch(Tensor pixels, List<String> prompts, Tensor mask, int instances) {
    }

    private record Item(TrainingImage image, boolean instance) {
    }

    private final List<Item> items;
    private final int resolution;
    private final boolean flip;
    private final boolean augment;
    private final int batchSize;
    private final long seed;

    private CustomDiffusionData(List<Item> items, int resolution, boolean flip, boolean augment, int batchSize,
            long seed) {
        this.items = items;
        this.resolution = resolution;
        this.flip = flip;
        this.augment = augment;
        this.batchSize = batchSize;
        this.seed = seed;
    }

    public static CustomDiffusionData open(List<Concept> concepts, int resolution, boolean flip, boolean augment,
            int batchSize, long seed) throws IOException {
        List<Item> items = new ArrayList<>();
        for (Concept c : concepts) {
            List<TrainingImage> inst = Captions.caption(c.instanceDir(),
                    ImageFolder.list(c.instanceDir(), "Instance image folder"), c.instancePrompt());
            List<TrainingImage> reg = c.classDir() == null ? List.of() : classImages(c.classDir(), c.classPrompt());
            if (reg.isEmpty()) {
                inst.forEach(i -> items.add(new Item(i, true)));
                continue;
            }
            for (int i = 0; i < 2 * reg.size(); i++) {
                items.add(i >= reg.size() ? new Item(inst.get(i % inst.size()), true) : new Item(reg.get(i), false));
            }
        }
        for (Item item : items) {
            ImageFiles.decode(item.image().file(), "replace or remove it");
        }
        return new CustomDiffusionData(List.copyOf(items), resolution, flip, augment, batchSize, seed);
    }

    /** adobe's retrieval layout (images.txt + caption.txt) or a plain folder captioned with {@code classPrompt}. */
    static List<TrainingImage> classImages(Path dir, String classPrompt) throws IOException {
        Path list = dir.resolve("images.txt");
        Path captions = dir.resolve("caption.txt");
        if (!Files.isRegularFile(list) || !Files.isRegularFile(captions)) {
            if (classPrompt == null) {
                throw new DataException("Class image folder " + dir + " has no images.txt and caption.txt (adobe's"
                        + " retrieval layout); give a class prompt to caption its images.");
            }
            return ImageFolder.list(dir, "Class image folder").stream().map(f -> new TrainingImage(f, classPrompt))
                    .toList();
        }
        List<String> paths = Files.readAllLines(list).stream().filter(l -> !l.isBlank()).toList();
        List<String> texts = Files.readAllLines(captions).stream().filter(l -> !l.isBlank()).toList();
        if (paths.size() != texts.size()) {
            throw new DataException(dir + ": images.txt lists " + paths.size() + " images but caption.txt has "
                    + texts.size() + " captions; give one caption line per image line.");
        }
        List<TrainingImage> out = new ArrayList<>();
        for (int i = 0; i < paths.size(); i++) {
            Path p = Path.of(paths.get(i).strip());
            Path file = Files.isRegularFile(p) ? p : dir.resolve("images").resolve(p.getFileName());
            if (!Files.isRegularFile(file)) {
                throw new DataException(dir + ": image '" + paths.get(i) + "' of images.txt line " + (i + 1)
                        + " is neither a file nor in " + dir.resolve("images") + "; fix the list or add the image.");
            }
            out.add(new TrainingImage(file, texts.get(i).strip()));
        }
        return out;
    }

    public int length() {
        return items.size();
    }

    public int batchesPerEpoch() {
        return (items.size() + batchSize - 1) / batchSize;
    }

    public DataPosition next(DataPosition p) {
        return p.batch() + 1 < batchesPerEpoch() ? new DataPosition(p.epoch(), p.batch() + 1)
                : new DataPosition(p.epoch() + 1, 0);
    }

    /** The batch at {@code p}; crops, flips and scales come from (seed, epoch, item), so a resumed run repeats them. */
    public CdBatch batch(DataPosition p) {
        if (p.batch() >= batchesPerEpoch()) {
            throw new DataException("Data position batch " + p.batch() + " is past the " + batchesPerEpoch()
                    + " batches of an epoch; use the position a run with the same data saved.");
        }
        int[] order = DataOrder.epoch(seed, p.epoch(), items.size(), true);
        int from = p.batch() * batchSize;
        int n = Math.min(batchSize, items.size() - from);
        List<Integer> picked = new ArrayList<>();
        for (int k = 0; k < n; k++) {
            picked.add(order[from + k]);
        }
        picked.sort((a, b) -> Boolean.compare(!items.get(a).instance(), !items.get(b).instance())); // instances first
        int r = resolution;
        int latent = r / ScaleAugment.LATENT_FACTOR;
        float[] pixels = new float[n * 3 * r * r];
        float[] mask = new float[n * latent * latent];
        List<String> prompts = new ArrayList<>();
        int instances = 0;
        for (int k = 0; k < n; k++) {
            Item item = items.get(picked.get(k));
            SplittableRandom rng = DataOrder.augmentation(seed, p.epoch(), picked.get(k), item.instance() ? 0 : 1);
            RgbImage square = centerSquare(ImageFiles.decode(item.image().file(), "it decoded when the data was opened"));
            if (flip && rng.nextBoolean()) {
                square = square.flipHorizontal();
            }
            ScaleAugment.Result res = item.instance() && augment ? ScaleAugment.apply(square, r, rng)
                    : ScaleAugment.plain(square, r);
            System.arraycopy(res.pixels(), 0, pixels, k * 3 * r * r, 3 * r * r);
            System.arraycopy(res.mask(), 0, mask, k * latent * latent, latent * latent);
            prompts.add(res.prefix() + item.image().caption());
            instances += item.instance() ? 1 : 0;
        }
        return new CdBatch(Tensor.of(pixels, n, 3, r, r), List.copyOf(prompts), Tensor.of(mask, n, 1, latent, latent),
                instances);
    }

    /** adobe's center crop to the square of side min(w, h) (before any resizing). */
    static RgbImage centerSquare(RgbImage img) {
        int side = Math.min(img.width(), img.height());
        return img.crop((img.width() - side) / 2, (img.height() - side) / 2, side, side);
    }
}
