package sdj.cli;

import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.DefaultParser;
import org.apache.commons.cli.HelpFormatter;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;
import org.apache.commons.cli.ParseException;

/** Entry point of the `sdj` program: dispatches to the subcommands listed in {@link #COMMANDS}. */
public final class Sdj {
    /** Every subcommand, in the order `sdj --help` lists them. */
    static final List<Command> COMMANDS = List.of(
            new Txt2ImgCommand(),
            new Img2ImgCommand(),
            new BenchCommand(),
            new TokenizeCommand(),
            new InspectCommand(),
            new ConvertCommand(),
            new LoraCommand(),
            new VerifyCommand(),
            new TrainCommand(),
            new CdCommand(),
            new DataCommand(),
            new EvaluateCommand());

    private Sdj() {
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs a command line and returns its exit status (also used by tests). */
    public static int run(String[] args) {
        Map<String, Command> byName = new LinkedHashMap<>();
        for (Command c : COMMANDS) {
            byName.put(c.name(), c);
        }
        if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h") || args[0].equals("help")) {
            printOverview(byName);
            return args.length == 0 ? 2 : 0;
        }
        Command command = byName.get(args[0]);
        if (command == null) {
            System.err.println("sdj: unknown command '" + args[0] + "'. Run 'sdj --help' for the list of commands.");
            return 2;
        }
        String[] rest = java.util.Arrays.copyOfRange(args, 1, args.length);
        Options options = command.options();
        options.addOption(Option.builder("h").longOpt("help").desc("show this help").build());
        CommandLine cmd;
        try {
            cmd = new DefaultParser().parse(options, rest);
        } catch (ParseException e) {
            System.err.println("sdj " + command.name() + ": " + e.getMessage());
            System.err.println("Run 'sdj " + command.name() + " --help' for its flags.");
            return 2;
        }
        if (cmd.hasOption("help")) {
            printCommandHelp(command, options);
            return 0;
        }
        try {
            return command.run(cmd);
        } catch (UserError e) {
            System.err.println("sdj " + command.name() + ": " + e.getMessage());
            return 1;
        } catch (OutOfMemoryError e) {
            long heapMib = Runtime.getRuntime().maxMemory() >> 20;
            System.err.println("sdj " + command.name() + ": out of memory (" + e.getMessage() + ") in a heap of " + heapMib
                    + " MiB. Give the JVM more (e.g. SDJ_HEAP=" + Math.max(4, 2 * ((heapMib + 1023) >> 10)) + "g ./sdj ...),"
                    + " or lower --W/--H/--n-samples.");
            return 1;
        } catch (Exception e) {
            String msg = e.getMessage() != null ? e.getMessage() : e.toString();
            System.err.println("sdj " + command.name() + ": " + msg);
            if (System.getenv("SDJ_DEBUG") != null) {
                e.printStackTrace();
            }
            return 1;
        }
    }

    private static void printOverview(Map<String, Command> byName) {
        System.out.println("sdj: Stable Diffusion in pure Java");
        System.out.println();
        System.out.println("usage: sdj COMMAND [flags]    (sdj COMMAND --help for its flags)");
        System.out.println();
        System.out.println("commands:");
        for (Command c : byName.values()) {
            System.out.printf("  %-10s %s%n", c.name(), c.summary());
        }
    }

    private static void printCommandHelp(Command command, Options options) {
        HelpFormatter f = new HelpFormatter();
        f.setWidth(100);
        PrintWriter pw = new PrintWriter(System.out);
        f.printHelp(pw, 100, "sdj " + command.name() + " [flags] " + command.positional(), command.summary(), options,
                2, 2, "", false);
        pw.flush();
    }
}
