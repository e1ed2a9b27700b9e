package sdj.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;
import sdj.backend.cpu.Parallel;
import sdj.bench.Machine;
import sdj.bench.profile.OpProfile;
import sdj.bench.profile.ProfileReport;

/** {@code --profile} and {@code --profile-json FILE} of {@code sdj bench unet|vae|unet-train|train}: a per-op profile. */
final class ProfileFlags {
    /** How many (layer, op type) rows the printed table shows; the JSON has them all. */
    private static final int LAYER_ROWS = 30;

    private ProfileFlags() {
    }

    static Options addTo(Options o) {
        o.addOption(Option.builder().longOpt("profile").desc("unet, vae, unet-train, train (cpu): after the timed runs, one more"
                + " run with every op timed; prints time, FLOPs, bytes and share per op type and per layer").build());
        o.addOption(Option.builder().longOpt("profile-json").hasArg().desc("with --profile: also write the whole profile"
                + " as JSON to this file (implies --profile)").build());
        return o;
    }

    /** A profile to fill when the command line asks for one, else null. */
    static OpProfile requested(CommandLine cmd) {
        return cmd.hasOption("profile") || cmd.hasOption("profile-json") ? new OpProfile() : null;
    }

    /** Prints the profile's tables and writes its JSON where asked; nothing when profile is null. */
    static void report(CommandLine cmd, OpProfile profile, String what) throws IOException {
        if (profile == null) {
            return;
        }
        ProfileReport report = new ProfileReport(profile, Machine.fp32PeakGflops(Parallel.threads()));
        System.out.println();
        System.out.print(report.table(LAYER_ROWS));
        String file = cmd.getOptionValue("profile-json");
        if (file != null) {
            Map<String, Object> about = new LinkedHashMap<>();
            about.put("bench", what);
            about.put("threads", Parallel.threads());
            about.put("machine", Machine.describe());
            Path path = Path.of(file);
            try {
                Files.writeString(path, report.json(about));
            } catch (IOException e) {
                throw new UserError("cannot write the profile to --profile-json " + file + ": " + e.getMessage()
                        + "; give a writable file path");
            }
            System.out.println("profile written to " + path);
        }
    }
}
