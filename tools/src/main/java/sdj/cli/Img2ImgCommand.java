package sdj.cli;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;
import sdj.image.Images;
import sdj.sd.pipeline.GenerationRequest;
import sdj.sd.pipeline.StableDiffusion;
import sdj.tensor.Tensor;

/**
 * `sdj img2img`: re-draws an image guided by a prompt (VAE-encode, noise to the strength's step,
 * denoise the rest); with --mask, only the white region of the mask is repainted.
 */
public final class Img2ImgCommand extends GenerateCommand {
    @Override
    public String name() {
        return "img2img";
    }

    @Override
    public String summary() {
        return "re-draw an image from a prompt (--strength), or inpaint the white part of --mask";
    }

    @Override
    public Options options() {
        Options o = commonOptions();
        o.addOption(Option.builder().longOpt("init-img").hasArg().required().desc("the image to start from").build());
        o.addOption(Option.builder().longOpt("strength").hasArg()
                .desc("0..1: how much to change the image (default 0.75)").build());
        o.addOption(Option.builder().longOpt("mask").hasArg()
                .desc("inpainting mask image: white = repaint, black = keep").build());
        return o;
    }

    @Override
    String defaultOutdir() {
        return "outputs/img2img-samples";
    }

    @Override
    String defaultSampler() {
        return "ddim";
    }

    @Override
    public int run(CommandLine cmd) throws Exception {
        BufferedImage init = Images.load(Path.of(cmd.getOptionValue("init-img")));
        // Without --W/--H the image keeps its size, rounded down to a multiple of 8.
        int w = cmd.hasOption("W") ? Flags.intOpt(cmd, "W", 512) : Math.max(8, init.getWidth() / 8 * 8);
        int h = cmd.hasOption("H") ? Flags.intOpt(cmd, "H", 512) : Math.max(8, init.getHeight() / 8 * 8);
        ModelChoice model = ModelChoice.of(cmd);
        GenerationRequest base = baseRequest(cmd, model, w, h);
        if (init.getWidth() != base.width() || init.getHeight() != base.height()) {
            init = Images.resize(init, base.width(), base.height());
        }
        Tensor mask = null;
        if (cmd.hasOption("mask")) {
            mask = Images.maskToLatentMask(Images.load(Path.of(cmd.getOptionValue("mask"))), base.height() / 8,
                    base.width() / 8);
        }
        GenerationRequest r;
        try {
            r = base.withImage(Images.toTensor(init), Flags.doubleOpt(cmd, "strength", 0.75), mask);
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
        checkSize(cmd, model, r);
        StableDiffusion sd = loadModel(cmd, model);
        return generateAndSave(sd, r, cmd, model.checkpoint());
    }
}
