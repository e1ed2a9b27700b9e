package sdj.shapes;

/**
 * sdj's own small text-to-image model, shipped in the repository: SD v1's architecture at 64×64 images
 * (models/sdj-shapes.json), trained from random weights by sdj on its shapes dataset
 * (models/train-sdj-shapes.sh). Its file carries its config in the safetensors metadata. The sampling
 * defaults below are what txt2img uses for it and what its quality is measured with.
 */
public final class EmbeddedModel {
    /** The weights, relative to the repository root. */
    public static final String FILE = "models/sdj-shapes.safetensors";
    /** The sizes it was trained with, relative to the repository root. */
    public static final String CONFIG = "models/sdj-shapes.json";

    /** Its training resolution. */
    public static final int SIZE = 64;
    public static final String SAMPLER = "ddim";
    public static final int STEPS = 20;
    public static final float SCALE = 5f;

    private EmbeddedModel() {
    }
}
