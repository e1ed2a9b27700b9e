package sdj.train.data;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import sdj.tensor.Tensor;

/**
 * Training images and their captions for DreamBooth-style fine-tuning, with diffusers'
 * {@code DreamBoothDataset} semantics: the dataset has max(instances, classes) items, item i pairs
 * instance i mod N<sub>inst</sub> with class i mod N<sub>class</sub>, each epoch visits the items in a
 * seeded order, and a batch of B items is B instance samples followed by their B class samples.
 * The last batch of an epoch may be smaller (a DataLoader's {@code drop_last=False}).
 *
 * <p>{@link #open} checks everything before training starts: the settings, the folders, every caption
 * source, and that every image decodes (or, with {@code skipBadImages}, leaves it out with a warning).
 */
public final class DreamBoothData {
    private final DataConfig config;
    private final List<TrainingImage> instances;
    private final List<TrainingImage> classes;
    private final List<String> warnings;

    private DreamBoothData(DataConfig config, List<TrainingImage> instances, List<TrainingImage> classes,
            List<String> warnings) {
        this.config = config;
        this.instances = instances;
        this.classes = classes;
        this.warnings = warnings;
    }

    public static DreamBoothData open(DataConfig config) {
        List<String> warnings = new ArrayList<>();
        List<TrainingImage> inst = Captions.caption(config.instanceDir(),
                ImageFolder.list(config.instanceDir(), "Instance image folder"), config.instancePrompt());
        inst = decodable(inst, config, warnings, "Instance image folder " + config.instanceDir());
        List<TrainingImage> cls = List.of();
        if (config.classDir() != null) {
            // kohya's captioned regularization images: a class image's own caption wins over the class prompt
            cls = Captions.caption(config.classDir(), ImageFolder.list(config.classDir(), "Class image folder"),
                    config.classPrompt());
            cls = decodable(cls, config, warnings, "Class image folder " + config.classDir());
        }
        return new DreamBoothData(config, inst, cls, List.copyOf(warnings));
    }

    /** The images that decode; a bad one is an error, or with skipBadImages a warning. */
    private static List<TrainingImage> decodable(List<TrainingImage> images, DataConfig config, List<String> warnings,
            String folder) {
        List<TrainingImage> ok = new ArrayList<>();
        for (TrainingImage image : images) {
            try {
                ImageFiles.decode(image.file(), "replace or remove it, or skip bad images");
                ok.add(image);
            } catch (DataException e) {
                if (!config.skipBadImages()) {
                    throw e;
                }
                warnings.add("Skipped image " + image.file() + ": it cannot be decoded ("
                        + (e.getCause() != null ? e.getCause().getMessage() : e.getMessage()) + ").");
            }
        }
        if (ok.isEmpty()) {
            throw new DataException(folder + " has no image that decodes (all " + images.size()
                    + " were skipped); add readable images.");
        }
        return List.copyOf(ok);
    }

    /** Whether the training data reads {@code file} as an image (by its png, jpg, jpeg, bmp or webp suffix). */
    public static boolean isImageFile(Path file) {
        return ImageFolder.isImage(file);
    }

    public DataConfig config() {
        return config;
    }

    public List<TrainingImage> instances() {
        return instances;
    }

    /** Empty without prior preservation. */
    public List<TrainingImage> classes() {
        return classes;
    }

    /** One line per image left out by skipBadImages. */
    public List<String> warnings() {
        return warnings;
    }

    /** Items per epoch: max(instances, classes). */
    public int length() {
        return Math.max(instances.size(), classes.size());
    }

    public int batchesPerEpoch() {
        return (length() + config.batchSize() - 1) / config.batchSize();
    }

    /** The dataset items in the order epoch {@code epoch} visits them. */
    public int[] order(int epoch) {
        return DataOrder.epoch(config.seed(), epoch, length(), config.shuffle());
    }

    /** The position after {@code p}: the next batch, or the first batch of the next epoch. */
    public DataPosition next(DataPosition p) {
        return p.batch() + 1 < batchesPerEpoch() ? new DataPosition(p.epoch(), p.batch() + 1)
                : new DataPosition(p.epoch() + 1, 0);
    }

    /** Loads and prepares the batch at {@code p}. */
    public Batch batch(DataPosition p) {
        if (p.batch() >= batchesPerEpoch()) {
            throw new DataException("Data position batch " + p.batch() + " is past the " + batchesPerEpoch()
                    + " batches of an epoch; use the position a run with the same data saved.");
        }
        int[] order = order(p.epoch());
        int from = p.batch() * config.batchSize();
        int items = Math.min(config.batchSize(), length() - from);
        boolean prior = !classes.isEmpty();
        int n = prior ? 2 * items : items;
        int r = config.resolution();
        float[] pixels = new float[n * 3 * r * r];
        List<String> prompts = new ArrayList<>(n);
        List<Path> files = new ArrayList<>(n);
        for (int k = 0; k < items; k++) {
            load(instances.get(order[from + k] % instances.size()), p.epoch(), order[from + k], 0, pixels, k, prompts,
                    files);
        }
        for (int k = 0; prior && k < items; k++) {
            load(classes.get(order[from + k] % classes.size()), p.epoch(), order[from + k], 1, pixels, items + k,
                    prompts, files);
        }
        return new Batch(Tensor.of(pixels, n, 3, r, r), List.copyOf(prompts), List.copyOf(files), items, p);
    }

    private void load(TrainingImage image, int epoch, int item, int role, float[] pixels, int sample,
            List<String> prompts, List<Path> files) {
        int r = config.resolution();
        RgbImage img = ImageFiles.decode(image.file(), "it decoded when the data was opened, so check that it was not changed");
        Preprocess.pixels(img, r, config.centerCrop(), config.randomFlip(),
                DataOrder.augmentation(config.seed(), epoch, item, role), pixels, sample * 3 * r * r);
        prompts.add(image.caption());
        files.add(image.file());
    }
}
