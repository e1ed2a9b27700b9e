package sdj.sd.vae;

/**
 * How the VAE works on a large image piece by piece: square tiles of {@code tileLatent} latents
 * (× 8 pixels) placed with at least {@code overlapLatent} latents of overlap, blended with linear
 * ramps across the overlap so no seam shows. The default, 64 latents with 16 of overlap, makes each
 * tile a 512×512 decode, the size SD v1 was trained at.
 */
public record VaeTiling(int tileLatent, int overlapLatent) {
    public static final VaeTiling DEFAULT = new VaeTiling(64, 16);

    public VaeTiling {
        if (tileLatent < 1 || overlapLatent < 0 || 2 * overlapLatent > tileLatent) {
            throw new IllegalArgumentException("a VAE tile of " + tileLatent + " latents cannot overlap its neighbour by "
                    + overlapLatent + "; use a positive tile size and an overlap of at most half of it");
        }
    }
}
