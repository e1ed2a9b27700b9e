package sdj.train.data;

import java.nio.file.Path;

/**
 * What the training data is and how it is prepared. Defaults ({@link #of}) follow diffusers'
 * {@code train_dreambooth.py}: random crop, no flip, shuffled order.
 *
 * @param instanceDir    the folder of training images
 * @param instancePrompt the caption of an instance image that has no caption of its own (see
 *                       {@link Captions}); may be null when every image has one
 * @param classDir       the folder of class images for prior preservation, or null for none
 * @param classPrompt    the caption of every class image; required with a class folder
 * @param resolution     the square side images are resized and cropped to: a positive multiple of 64
 * @param centerCrop     crop the center (true) or a seeded random square (false)
 * @param randomFlip     mirror each image left-right with probability 1/2 (seeded)
 * @param shuffle        a new seeded order every epoch (true) or file order (false)
 * @param batchSize      instance images per batch (a batch holds as many class images again)
 * @param seed           seeds the order and the augmentation
 * @param skipBadImages  leave out images that do not decode, with a warning, instead of failing
 */
public record DataConfig(Path instanceDir, String instancePrompt, Path classDir, String classPrompt, int resolution,
        boolean centerCrop, boolean randomFlip, boolean shuffle, int batchSize, long seed, boolean skipBadImages) {
    public DataConfig {
        if (instanceDir == null) {
            throw new DataException("No instance image folder was given; pass the folder of training images.");
        }
        if (resolution <= 0 || resolution % 64 != 0) {
            throw new DataException("Resolution " + resolution
                    + " is not a positive multiple of 64; use 512 for SD v1 or another multiple of 64.");
        }
        if (batchSize < 1) {
            throw new DataException("Batch size " + batchSize + " is not allowed; use 1 or more.");
        }
        if (classDir != null && (classPrompt == null || classPrompt.isBlank())) {
            throw new DataException("Class image folder " + classDir
                    + " was given without a class prompt; pass the class prompt (for example \"a photo of a dog\").");
        }
        if (classDir == null && classPrompt != null) {
            throw new DataException("Class prompt \"" + classPrompt
                    + "\" was given without a class image folder; pass the folder of class images or drop the prompt.");
        }
    }

    /** diffusers' defaults: random crop, no flip, shuffled, batch 1, seed 0, bad images are errors. */
    public static DataConfig of(Path instanceDir, String instancePrompt, int resolution) {
        return new DataConfig(instanceDir, instancePrompt, null, null, resolution, false, false, true, 1, 0, false);
    }

    public DataConfig withClasses(Path dir, String prompt) {
        return new DataConfig(instanceDir, instancePrompt, dir, prompt, resolution, centerCrop, randomFlip, shuffle,
                batchSize, seed, skipBadImages);
    }

    public DataConfig withCrop(boolean center, boolean flip) {
        return new DataConfig(instanceDir, instancePrompt, classDir, classPrompt, resolution, center, flip, shuffle,
                batchSize, seed, skipBadImages);
    }

    public DataConfig withOrder(boolean shuffled, int batch, long seed) {
        return new DataConfig(instanceDir, instancePrompt, classDir, classPrompt, resolution, centerCrop, randomFlip,
                shuffled, batch, seed, skipBadImages);
    }

    public DataConfig withSkipBadImages(boolean skip) {
        return new DataConfig(instanceDir, instancePrompt, classDir, classPrompt, resolution, centerCrop, randomFlip,
                shuffle, batchSize, seed, skip);
    }
}
