package sdj.train.run;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import sdj.image.Images;
import sdj.image.PngWriter;
import sdj.sd.pipeline.GenerationRequest;
import sdj.sd.pipeline.StableDiffusion;

/**
 * Validation images as diffusers' {@code log_validation} draws them: {@code numValidationImages} images
 * of the validation prompt with the weights as they are at that step, DPMSolverMultistep (our
 * "dpmpp_2m") for {@code validationInferenceSteps} steps, guidance 7.5, no negative prompt, from the
 * run's seed (image i: seed + i, so every validation draws from the same noise and the images show
 * only what training changed). They are written to {@code OUTDIR/validation/step-{N}-{i}.png}, N the
 * optimizer step and i the image from 0, with the prompt and settings in a {@code parameters} text chunk.
 * Sampling runs without autograd and draws no training randomness, so training continues unchanged.
 */
final class ValidationImages {
    static final String SAMPLER = "dpmpp_2m";
    static final String FOLDER = "validation";
    private static final StableDiffusion.Listener QUIET = (step, steps) -> { };

    private ValidationImages() {
    }

    /** Draws and writes the images of step {@code step}; returns their files. */
    static List<Path> write(TrainConfig config, long seed, StableDiffusion pipeline, Path outputDir, long step)
            throws IOException {
        GenerationRequest r = request(config, seed);
        List<Path> files = new ArrayList<>();
        for (StableDiffusion.GeneratedImage image : pipeline.generate(r, QUIET)) {
            Path file = outputDir.resolve(FOLDER).resolve(fileName(step, image.index()));
            String parameters = String.format(Locale.ROOT, "%s\nSteps: %d, Sampler: %s, CFG scale: %s, Seed: %d,"
                    + " Size: %dx%d, Training step: %d", r.prompt(), r.steps(), SAMPLER, ClassImages.GUIDANCE,
                    image.seed(), r.width(), r.height(), step);
            PngWriter.write(file, Images.fromTensor(image.pixels(), 0), Map.of("parameters", parameters));
            files.add(file);
        }
        return files;
    }

    static String fileName(long step, int index) {
        return "step-" + step + "-" + index + ".png";
    }

    /** One image per sampler call, as diffusers draws them one by one. */
    static GenerationRequest request(TrainConfig config, long seed) {
        return new GenerationRequest(config.validationPrompt(), "", SAMPLER, false, config.validationInferenceSteps(),
                ClassImages.GUIDANCE, seed, config.resolution(), config.resolution(), 1, config.numValidationImages(), 0.0,
                null, 1.0, null);
    }
}
