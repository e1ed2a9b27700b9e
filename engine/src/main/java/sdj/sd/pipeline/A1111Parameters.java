package sdj.sd.pipeline;

import java.nio.file.Path;
import java.util.Locale;

/**
 * The generation settings AUTOMATIC1111 writes into its PNGs (a text chunk with the keyword
 * {@value #PNG_KEYWORD}), in its layout, so that its "PNG Info" tab and other readers of that
 * format show them: the prompt, "Negative prompt: …" when there is one, then the settings line.
 */
public final class A1111Parameters {
    /** The PNG text keyword the settings are stored under. */
    public static final String PNG_KEYWORD = "parameters";

    private A1111Parameters() {
    }

    /**
     * The text for one image of {@code r}.
     *
     * @param seed the image's own seed ({@link GenerationRequest#seedOf})
     * @param modelHash the checkpoint's {@link ModelHash}
     * @param checkpoint the checkpoint file; its name without .ckpt/.safetensors is the "Model" entry
     */
    public static String of(GenerationRequest r, long seed, String modelHash, Path checkpoint) {
        StringBuilder sb = new StringBuilder(r.prompt());
        if (!r.negativePrompt().isEmpty()) {
            sb.append("\nNegative prompt: ").append(r.negativePrompt());
        }
        String model = checkpoint.getFileName().toString().replaceFirst("\\.(ckpt|safetensors)$", "");
        sb.append(String.format(Locale.ROOT, "\nSteps: %d, Sampler: %s, CFG scale: %s, Seed: %d, Size: %dx%d, Model hash: %s, "
                + "Model: %s", r.steps(), samplerName(r), decimal(r.scale()), seed, r.width(), r.height(), modelHash, model));
        if (r.initImage() != null) {
            sb.append(", Denoising strength: ").append(decimal((float) r.strength()));
        }
        return sb.toString();
    }

    /** The sampler names A1111 writes, with " Karras" for the Karras schedule. */
    public static String samplerName(GenerationRequest r) {
        String base = switch (r.sampler()) {
            case "ddim" -> "DDIM";
            case "plms" -> "PLMS";
            case "euler" -> "Euler";
            case "euler_a" -> "Euler a";
            case "heun" -> "Heun";
            case "lms" -> "LMS";
            case "dpmpp_2m" -> "DPM++ 2M";
            case "ddpm" -> "DDPM";
            default -> r.sampler();
        };
        return r.karras() ? base + " Karras" : base;
    }

    /** A1111 prints Python floats: whole numbers keep their ".0" (7.0), others print as they are (7.5). */
    private static String decimal(float v) {
        return v == Math.rint(v) ? String.valueOf((int) v) + ".0" : String.valueOf(v);
    }
}
