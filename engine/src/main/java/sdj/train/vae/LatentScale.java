package sdj.train.vae;

import sdj.random.TorchGenerator;
import sdj.sd.vae.AutoencoderKL;
import sdj.tensor.Autograd;
import sdj.tensor.DType;
import sdj.tensor.Device;
import sdj.tensor.Tensor;
import sdj.train.Latents;
import sdj.train.data.DataConfig;
import sdj.train.data.DataPosition;
import sdj.train.data.DreamBoothData;

/**
 * LDM's {@code scale_by_std}: the latent scale factor is 1 / the standard deviation of posterior samples, so the
 * diffusion model sees latents of unit variance. LDM measures it on its first batch; here it is every element of
 * the samples of (up to) the first {@link #MAX_IMAGES} training images in file order, center-cropped and not
 * flipped, with ε from a generator seeded with the run's seed; the deviation is torch's unbiased {@code std()}.
 *
 * @param scaleFactor 1 / latentStd
 * @param latentStd   the samples' standard deviation
 * @param images      the images measured
 */
public record LatentScale(double scaleFactor, double latentStd, int images) {
    public static final int MAX_IMAGES = 512;
    private static final int BATCH = 8;

    /** Measures the scale on the images of {@code data}'s folder with the VAE on {@code device} (order and crop fixed). */
    public static LatentScale measure(AutoencoderKL vae, Device device, DataConfig data, long seed) {
        DreamBoothData images = DreamBoothData.open(new DataConfig(data.instanceDir(), data.instancePrompt(), null, null,
                data.resolution(), true, false, false, BATCH, seed, data.skipBadImages()));
        TorchGenerator g = new TorchGenerator(seed);
        int wanted = Math.min(MAX_IMAGES, images.length());
        double sum = 0;
        double sumSq = 0;
        long n = 0;
        int done = 0;
        try (var scope = Autograd.noGrad()) {
            for (DataPosition p = DataPosition.START; done < wanted; p = images.next(p)) {
                Tensor pixels = images.batch(p).pixels();
                int take = Math.min(pixels.size(0), wanted - done);
                pixels = pixels.narrow(0, 0, take).contiguous();
                Tensor moments = vae.encodeMoments(pixels.to(device));
                int[] ms = moments.shape();
                float[] z = Latents.sample(moments, g.randn(ms[0], ms[1] / 2, ms[2], ms[3]), 1f)
                        .to(Device.CPU, DType.F32).toFloatArray();
                for (float v : z) {
                    sum += v;
                    sumSq += (double) v * v;
                }
                n += z.length;
                done += take;
            }
        }
        double variance = (sumSq - sum * sum / n) / (n - 1);
        double std = Math.sqrt(variance);
        return new LatentScale(1 / std, std, done);
    }

    /** The line the CLI prints: {@code scale_factor 0.xxxx (latent std y.yyyy over N images)}. */
    public String line() {
        return String.format(java.util.Locale.ROOT, "scale_factor %.4f (latent std %.4f over %d images)", scaleFactor,
                latentStd, images);
    }
}
