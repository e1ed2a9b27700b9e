package sdj.train.vae;

/**
 * What a VAE run adds to the trainer's settings.
 *
 * @param klWeight       the KL term's weight (LDM's {@code kl_weight}, 1e-6 in its SD v1 autoencoder config)
 * @param reconstruction L1 (LDM's) or MSE
 */
public record VaeSettings(double klWeight, VaeLoss.Reconstruction reconstruction) {
    public static final double LDM_KL_WEIGHT = 1e-6;

    public VaeSettings {
        if (!(klWeight >= 0) || Double.isInfinite(klWeight)) {
            throw new IllegalArgumentException("klWeight " + klWeight + " is not allowed; use 0 or more (LDM uses 1e-6).");
        }
    }

    public static VaeSettings defaults() {
        return new VaeSettings(LDM_KL_WEIGHT, VaeLoss.Reconstruction.L1);
    }
}
