package sdj.cli;

/**
 * The fine-tuning demo of the README ("sdj's own model"), as the test runs it: Custom Diffusion teaches the new
 * token {@code <new1>} the star from 5 generated images, training the cross-attention keys and values and the new
 * token's row (starting from "circle", a word the model knows as a shape), without adobe's scale augmentation
 * (its "zoomed in"/"far away" caption prefixes mean nothing to this model).
 */
final class DemoCommands {
    /** Floors on the classifier's scores (measured values in the README's demo section). */
    static final double STAR_FLOOR = 0.5;
    static final double OLD_SHAPE_FLOOR = 0.5;
    static final double OLD_COLOUR_FLOOR = 0.6;

    private DemoCommands() {
    }

    static String[] train(String model, String starFolder, String outputDir) {
        return new String[] {"train", "custom-diffusion", "--ckpt", model, "--instance-data-dir", starFolder,
            "--instance-prompt", "a <new1>", "--modifier-token", "<new1>", "--initializer-token", "circle",
            "--resolution", "64", "--train-batch-size", "2", "--learning-rate", "1e-4", "--max-train-steps", "200",
            "--no-aug", "--seed", "0", "--checkpointing-steps", "1000", "--output-dir", outputDir};
    }
}
