package sdj.train.vae;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import sdj.image.Images;
import sdj.image.PngWriter;
import sdj.sd.vae.AutoencoderKL;
import sdj.tensor.Autograd;
import sdj.tensor.DType;
import sdj.tensor.Device;
import sdj.tensor.Tensor;
import sdj.train.data.DataConfig;
import sdj.train.data.DataPosition;
import sdj.train.data.DreamBoothData;

/**
 * A PNG of the first {@code count} training images (top row, center-cropped) over their reconstructions from the
 * posterior mean (bottom row): how a VAE run looks at a glance.
 */
public final class ReconstructionGrid {
    private ReconstructionGrid() {
    }

    public static void write(Path file, AutoencoderKL vae, Device device, DataConfig data, int count) throws IOException {
        DreamBoothData images = DreamBoothData.open(new DataConfig(data.instanceDir(), data.instancePrompt(), null, null,
                data.resolution(), true, false, false, count, 0, data.skipBadImages()));
        Tensor pixels = images.batch(DataPosition.START).pixels();
        Tensor decoded;
        try (var scope = Autograd.noGrad()) {
            decoded = vae.decode(vae.encodeMean(pixels.to(device))).to(Device.CPU, DType.F32);
        }
        int n = pixels.size(0);
        int r = data.resolution();
        BufferedImage grid = new BufferedImage(n * r, 2 * r, BufferedImage.TYPE_INT_RGB);
        for (int i = 0; i < n; i++) {
            grid.getGraphics().drawImage(Images.fromTensor(pixels, i), i * r, 0, null);
            grid.getGraphics().drawImage(Images.fromTensor(decoded, i), i * r, r, null);
        }
        PngWriter.write(file, grid, Map.of());
    }
}
