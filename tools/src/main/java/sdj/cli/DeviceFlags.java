package sdj.cli;

import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;
import sdj.backend.cuda.Cuda;
import sdj.tensor.DType;
import sdj.tensor.Device;

/**
 * {@code --device cpu|cuda} and {@code --precision fp32|fp16|bf16}, shared by every command that
 * computes. The CUDA probe happens here, before any weights are read, so a machine without a GPU gets
 * one sentence instead of a failure halfway through loading.
 */
record DeviceFlags(Device device, DType dtype) {
    static Options addTo(Options o) {
        o.addOption(Option.builder().longOpt("device").hasArg().desc("cpu (default) or cuda").build());
        o.addOption(Option.builder().longOpt("precision").hasArg()
                .desc("weight and activation storage on cuda: fp16 (default there), bf16 or fp32; the cpu is fp32")
                .build());
        return o;
    }

    static DeviceFlags parse(CommandLine cmd) {
        Device device;
        try {
            device = Device.parse(cmd.getOptionValue("device", "cpu"));
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
        String defaultPrecision = device == Device.CUDA ? "fp16" : "fp32";
        DType dtype;
        try {
            dtype = DType.parsePrecision(cmd.getOptionValue("precision", defaultPrecision));
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
        if (device == Device.CPU && dtype != DType.F32) {
            throw new UserError("--precision " + cmd.getOptionValue("precision") + " needs --device cuda; the cpu computes"
                    + " and stores weights in fp32");
        }
        if (device == Device.CUDA && !Cuda.available()) {
            throw new UserError("--device cuda: no usable CUDA device or driver was found (" + Cuda.unavailableReason()
                    + "); use --device cpu");
        }
        return new DeviceFlags(device, dtype);
    }

    String label() {
        return device == Device.CPU ? "cpu" : "cuda " + dtype.name().toLowerCase() + " (" + Cuda.device() + ")";
    }
}
