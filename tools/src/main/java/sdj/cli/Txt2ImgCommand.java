package sdj.cli;

import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Options;
import sdj.sd.pipeline.GenerationRequest;
import sdj.sd.pipeline.StableDiffusion;
import sdj.shapes.EmbeddedModel;

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
        var tokenizer = tokenizerInBackground(cmd); // beside the checks and the load, from the start
        ModelChoice model = ModelChoice.of(cmd);
        int size = model.embedded() ? EmbeddedModel.SIZE : 512;
        GenerationRequest r = baseRequest(cmd, model, size, size);
        checkSize(cmd, model, r);
        StableDiffusion sd = loadModel(cmd, model, tokenizer);
        return generateAndSave(sd, r, cmd, model.checkpoint());
    }
}
