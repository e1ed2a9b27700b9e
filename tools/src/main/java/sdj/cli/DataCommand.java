package sdj.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;
import sdj.shapes.Colour;
import sdj.shapes.Shape;
import sdj.shapes.ShapesDataset;

/**
 * `sdj data shapes --count N --out DIR`: writes the seeded synthetic dataset of the embedded model
 * (PNGs + metadata.jsonl); `sdj data classify DIR`: scores the images of DIR against its metadata.
 */
public final class DataCommand implements Command {
    @Override
    public String name() {
        return "data";
    }

    @Override
    public String summary() {
        return "make the synthetic shapes dataset (shapes) or score images against its captions (classify DIR)";
    }

    @Override
    public String positional() {
        return "shapes | classify DIR";
    }

    @Override
    public Options options() {
        Options o = new Options();
        o.addOption(Option.builder().longOpt("count").hasArg().argName("N").desc("shapes: number of images").build());
        o.addOption(Option.builder().longOpt("out").hasArg().argName("DIR")
                .desc("shapes: folder to write (must be missing or empty)").build());
        o.addOption(Option.builder().longOpt("seed").hasArg().argName("S").desc("shapes: random seed (default 0)").build());
        o.addOption(Option.builder().longOpt("size").hasArg().argName("PX")
                .desc("shapes: image width and height (default 64)").build());
        o.addOption(Option.builder().longOpt("shapes").hasArg().argName("LIST")
                .desc("shapes: comma-separated shapes (default circle,square,triangle; also star, heart)").build());
        o.addOption(Option.builder().longOpt("colours").hasArg().argName("LIST")
                .desc("shapes: comma-separated colours (default red,green,blue,yellow,white,black)").build());
        o.addOption(Option.builder().longOpt("caption").hasArg().argName("TEMPLATE")
                .desc("shapes: caption with {colour}, {shape}, {background} (default \""
                        + ShapesDataset.DEFAULT_CAPTION + "\")").build());
        return o;
    }

    @Override
    public int run(CommandLine cmd) throws Exception {
        String[] args = cmd.getArgs();
        if (args.length == 0) {
            throw new UserError("say what to do: 'sdj data shapes --count N --out DIR' or 'sdj data classify DIR'");
        }
        return switch (args[0]) {
            case "shapes" -> shapes(cmd);
            case "classify" -> DataClassify.run(args);
            default -> throw new UserError("unknown data action '" + args[0] + "': use 'shapes' or 'classify'");
        };
    }

    private static int shapes(CommandLine cmd) throws Exception {
        if (cmd.getArgs().length > 1) {
            throw new UserError("'sdj data shapes' takes no positional arguments; give the folder with --out DIR");
        }
        int count = positiveInt(cmd, "count", null);
        String out = cmd.getOptionValue("out");
        if (out == null) {
            throw new UserError("say where to write the dataset with --out DIR");
        }
        Path dir = Path.of(out);
        if (Files.exists(dir) && !isEmptyDirectory(dir)) {
            throw new UserError("--out " + dir + " already exists and is not an empty folder: "
                    + "give a new or empty folder so no files are mixed or overwritten");
        }
        long seed = Flags.longOpt(cmd, "seed", 0);
        int size = positiveInt(cmd, "size", 64);
        ShapesDataset dataset;
        try {
            List<Shape> shapes = cmd.hasOption("shapes") ? Shape.parseList(cmd.getOptionValue("shapes")) : Shape.baseShapes();
            List<Colour> colours = cmd.hasOption("colours") ? Colour.parseList(cmd.getOptionValue("colours"))
                    : List.of(Colour.values());
            dataset = new ShapesDataset(size, colours, shapes,
                    cmd.getOptionValue("caption", ShapesDataset.DEFAULT_CAPTION));
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
        dataset.write(dir, seed, count);
        System.out.println("wrote " + count + " images and " + ShapesDataset.METADATA_FILE + " to " + dir);
        return 0;
    }

    private static boolean isEmptyDirectory(Path dir) throws java.io.IOException {
        if (!Files.isDirectory(dir)) {
            return false;
        }
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.findAny().isEmpty();
        }
    }

    private static int positiveInt(CommandLine cmd, String flag, Integer fallback) {
        String v = cmd.getOptionValue(flag);
        if (v == null) {
            if (fallback == null) {
                throw new UserError("say how many images to make with --" + flag + " N");
            }
            return fallback;
        }
        try {
            int n = Integer.parseInt(v.strip());
            if (n > 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // falls through to the sentence below
        }
        throw new UserError("--" + flag + " must be a positive whole number, got '" + v + "'");
    }
}
