package sdj.cli;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;
import sdj.image.Images;
import sdj.image.PngWriter;
import sdj.io.AtomicFile;
import sdj.io.Json;
import sdj.sd.pipeline.GenerationRequest;
import sdj.sd.pipeline.StableDiffusion;
import sdj.shapes.Colour;
import sdj.shapes.EmbeddedModel;
import sdj.shapes.Shape;
import sdj.shapes.ShapeScores;
import sdj.shapes.ShapesDataset;
import sdj.shapes.ShapesEvaluation;

/**
 * `sdj evaluate`: draws the fixed prompt/seed set of the shapes dataset with a model (the embedded one by default,
 * with any txt2img flag: --ckpt, --delta-ckpt, --lora, --steps, --scale ...) and prints how often the classifier
 * finds the asked colour, shape and background. With --outdir the images and a metadata.jsonl are kept, so
 * `sdj data classify DIR` scores them again.
 */
public final class EvaluateCommand extends GenerateCommand {
    static final int DEFAULT_COUNT = 64;
    static final long FIRST_SEED = 1000;

    @Override
    public String name() {
        return "evaluate";
    }

    @Override
    public String summary() {
        return "score a shapes model: draw a fixed set of prompts and seeds, classify colour, shape and background";
    }

    @Override
    public Options options() {
        Options o = commonOptions(false);
        o.getOption("prompt").setDescription("not used: the prompts come from --caption and the attribute lists");
        o.addOption(Option.builder().longOpt("count").hasArg().argName("N")
                .desc("images to draw and score (default " + DEFAULT_COUNT + ")").build());
        o.addOption(Option.builder().longOpt("shapes").hasArg().argName("LIST")
                .desc("comma-separated shapes asked for (default circle,square,triangle)").build());
        o.addOption(Option.builder().longOpt("colours").hasArg().argName("LIST")
                .desc("comma-separated colours (default red,green,blue,yellow,white,black)").build());
        o.addOption(Option.builder().longOpt("caption").hasArg().argName("TEMPLATE")
                .desc("prompt with {colour}, {shape}, {background} (default \"" + ShapesDataset.DEFAULT_CAPTION
                        + "\"; e.g. \"a {colour} <new1> on a {background} background\" with --shapes star)").build());
        return o;
    }

    /** The shapes models' size, sampler, steps and scale, whichever shapes model draws. */
    @Override
    boolean shapesDefaults(ModelChoice model) {
        return true;
    }

    @Override
    String defaultOutdir() {
        return null;
    }

    @Override
    public int run(CommandLine cmd) throws Exception {
        int count = Flags.intOpt(cmd, "count", DEFAULT_COUNT);
        if (count < 1) {
            throw new UserError("--count must be at least 1, got " + count);
        }
        List<ShapesEvaluation.Case> cases;
        try {
            cases = ShapesEvaluation.cases(count,
                    cmd.hasOption("colours") ? Colour.parseList(cmd.getOptionValue("colours")) : List.of(Colour.values()),
                    cmd.hasOption("shapes") ? Shape.parseList(cmd.getOptionValue("shapes")) : Shape.baseShapes(),
                    cmd.getOptionValue("caption", ShapesDataset.DEFAULT_CAPTION), FIRST_SEED);
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
        ModelChoice model = ModelChoice.of(cmd);
        GenerationRequest base = baseRequest(cmd, model, EmbeddedModel.SIZE, EmbeddedModel.SIZE);
        StableDiffusion sd = loadModel(cmd, model);
        Path out = cmd.hasOption("outdir") ? Path.of(cmd.getOptionValue("outdir")) : null;
        if (out != null) {
            Files.createDirectories(out);
        }
        StringBuilder metadata = new StringBuilder();
        int[] index = {0};
        long t0 = System.nanoTime();
        ShapeScores scores = ShapesEvaluation.score(cases, c -> {
            GenerationRequest r = new GenerationRequest(c.prompt(), base.negativePrompt(), base.sampler(), base.karras(),
                    base.steps(), base.scale(), c.seed(), base.width(), base.height(), 1, 1, base.eta(), null, 0.75, null);
            BufferedImage image = Images.fromTensor(sd.generate(r, (step, total) -> { }).get(0).pixels(), 0);
            if (out != null) {
                keep(out, index[0], c, image, metadata);
            }
            index[0]++;
            return image;
        });
        if (out != null) {
            AtomicFile.write(out.resolve(ShapesDataset.METADATA_FILE), metadata.toString().getBytes(StandardCharsets.UTF_8));
        }
        System.err.printf(Locale.ROOT, "drew %d images in %.1f s (%s, %d steps, scale %s)%n", cases.size(),
                (System.nanoTime() - t0) / 1e9, base.sampler(), base.steps(), base.scale());
        scores.lines().forEach(System.out::println);
        return 0;
    }

    private static void keep(Path out, int i, ShapesEvaluation.Case c, BufferedImage image, StringBuilder metadata) {
        String name = String.format(Locale.ROOT, "%05d.png", i);
        try {
            PngWriter.write(out.resolve(name), image, Map.of());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("file_name", name);
        m.put("text", c.prompt());
        m.put("seed", c.seed());
        m.put("colour", c.expected().colour());
        m.put("shape", c.expected().shape());
        m.put("background", c.expected().background());
        metadata.append(Json.write(m)).append('\n');
    }
}
