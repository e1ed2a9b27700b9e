package sdj.sd.verify;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import sdj.io.SafeTensors;
import sdj.io.StateDicts;
import sdj.sd.ModelConfigFiles;
import sdj.sd.ModelConfigs;
import sdj.sd.StableDiffusionModel;
import sdj.tensor.DType;
import sdj.tensor.Device;
import sdj.tensor.Tensor;

/**
 * Loads a checkpoint and a reference file and runs every check: what `sdj verify` and the parity
 * tests share. Configs come from the reference's {@code __metadata__} (keys unet, vae, clip).
 */
public final class ReferenceRun {
    /**
     * Tolerance factor for half-precision checkpoints: the references were made with fp32 weights, and
     * rounding every weight to fp16 (relative error up to 2^-11 ≈ 4.9e-4) moves outputs by about that
     * much relative to their scale, a few times over through the layers.
     */
    public static final double HALF_PRECISION_TOLERANCE_SCALE = 20;

    private ReferenceRun() {
    }

    public static List<Check> run(Path checkpoint, Path reference, Consumer<Check> onCheck) throws IOException {
        return run(checkpoint, reference, Device.CPU, DType.F32, onCheck);
    }

    /** The same checks with the model on {@code device}, weights and activations stored as {@code dtype}. */
    public static List<Check> run(Path checkpoint, Path reference, Device device, DType dtype, Consumer<Check> onCheck)
            throws IOException {
        Map<String, Tensor> stateDict = StateDicts.load(checkpoint);
        SafeTensors ref = SafeTensors.open(reference);
        ModelConfigs configs = ModelConfigFiles.fromMetadata(ref.metadata(), reference.toString());
        StableDiffusionModel model = StableDiffusionModel.fromStateDict(stateDict, configs, checkpoint.toString(), device,
                dtype);
        double scale = Math.max(isHalfPrecision(stateDict) ? HALF_PRECISION_TOLERANCE_SCALE : 1,
                deviceToleranceScale(device, dtype));
        return new Verifier(model, ref.tensors(), scale).run(onCheck);
    }

    /**
     * How far the GPU may drift from the fp32 references. fp32: ×2 (cuBLASLt and our kernels sum in a
     * different order than the CPU; no TF32). fp16: ×100, so forward outputs within 1e-2 of their scale
     * and samplers within 10%: every weight and activation is rounded to 11 bits (2^-11 ≈ 4.9e-4) and
     * that compounds over ~20 layers and 10 guided steps. bf16 (8 bits, 2^-8 ≈ 3.9e-3): ×400.
     */
    public static double deviceToleranceScale(Device device, DType dtype) {
        if (device == Device.CPU) {
            return 1;
        }
        return switch (dtype) {
            case F16 -> 100;
            case BF16 -> 400;
            default -> 2;
        };
    }

    /** True when the UNet weights are stored in fp16 or bf16. */
    static boolean isHalfPrecision(Map<String, Tensor> stateDict) {
        Tensor probe = stateDict.get("model.diffusion_model.input_blocks.0.0.weight");
        return probe != null && (probe.dtype() == DType.F16 || probe.dtype() == DType.BF16);
    }
}
