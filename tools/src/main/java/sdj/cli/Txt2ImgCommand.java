package sdj.cli;

import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Options;
import sdj.sd.pipeline.GenerationRequest;
import sdj.sd.pipeline.StableDiffusion;

/** `sdj txt2img`: images from a prompt, with CompVis txt2img.py's flags and defaults. */
public final class Txt2ImgCommand extends GenerateCommand {
    @Override
    public String name() {
        return "txt2img";
    }

    @Override
    public String summary() {
        return "generate images from a text prompt";
    }

    @Override
    public Options options() {
        return commonOptions();
    }

    @Override
    String defaultOutdir() {
        return "outputs/txt2img-samples";
    }

    @Override
    public int run(CommandLine cmd) throws Exception {
        GenerationRequest r = baseRequest(cmd, 512, 512);
        checkSize(cmd, r);
        StableDiffusion sd = loadModel(cmd);
        return generateAndSave(sd, r, cmd, checkpointPath(cmd));
    }
}
