package sdj.cli;

import java.io.IOException;
import java.nio.file.Path;
import org.apache.commons.cli.CommandLine;
import sdj.sd.ModelConfigFiles;
import sdj.sd.ModelConfigs;

/** Typed flag parsing with one-sentence errors. */
final class Flags {
    private Flags() {
    }

    /** The model sizes of --config's JSON file, or SD v1's without it. */
    static ModelConfigs modelConfigs(CommandLine cmd) throws IOException {
        return cmd.hasOption("config") ? ModelConfigFiles.read(Path.of(cmd.getOptionValue("config"))) : ModelConfigs.SD_V1;
    }

    static int intOpt(CommandLine cmd, String name, int def) {
        String v = cmd.getOptionValue(name);
        if (v == null) {
            return def;
        }
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new UserError("--" + name + " needs a whole number, got '" + v + "'");
        }
    }

    static double doubleOpt(CommandLine cmd, String name, double def) {
        String v = cmd.getOptionValue(name);
        if (v == null) {
            return def;
        }
        try {
            return Double.parseDouble(v.trim());
        } catch (NumberFormatException e) {
            throw new UserError("--" + name + " needs a number, got '" + v + "'");
        }
    }

    static long longOpt(CommandLine cmd, String name, long def) {
        String v = cmd.getOptionValue(name);
        if (v == null) {
            return def;
        }
        try {
            return Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw new UserError("--" + name + " needs a whole number, got '" + v + "'");
        }
    }
}
