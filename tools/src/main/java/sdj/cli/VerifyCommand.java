package sdj.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;
import sdj.sd.verify.Check;
import sdj.tensor.Device;
import sdj.sd.verify.ReferenceRun;

/** `sdj verify`: recompute every tensor of a reference file from a checkpoint and compare. */
public final class VerifyCommand implements Command {
    @Override
    public String name() {
        return "verify";
    }

    @Override
    public String summary() {
        return "check the networks, gradients and samplers against reference tensors (PASS/FAIL per tensor)";
    }

    @Override
    public Options options() {
        Options o = new Options();
        o.addOption(Option.builder().longOpt("ckpt").hasArg().required().desc("checkpoint (.ckpt or .safetensors)").build());
        o.addOption(Option.builder().longOpt("reference").hasArg().required()
                .desc("reference tensors (.safetensors with configs in __metadata__)").build());
        return DeviceFlags.addTo(o);
    }

    @Override
    public int run(CommandLine cmd) throws Exception {
        Path ckpt = existing(cmd.getOptionValue("ckpt"), "--ckpt");
        Path ref = existing(cmd.getOptionValue("reference"), "--reference");
        DeviceFlags placement = DeviceFlags.parse(cmd);
        if (placement.device() != Device.CPU) {
            System.out.printf(Locale.ROOT, "on %s: tolerances x%.0f%n", placement.label(),
                    ReferenceRun.deviceToleranceScale(placement.device(), placement.dtype()));
        }
        List<Check> checks = ReferenceRun.run(ckpt, ref, placement.device(), placement.dtype(),
                c -> System.out.println(c.line()));
        long passed = checks.stream().filter(Check::pass).count();
        System.out.println(passed + "/" + checks.size() + " checks pass");
        return passed == checks.size() && !checks.isEmpty() ? 0 : 1;
    }

    static Path existing(String value, String flag) {
        Path p = Path.of(value);
        if (!Files.isRegularFile(p)) {
            throw new UserError(flag + " " + value + " does not exist or is not a file");
        }
        return p;
    }
}
