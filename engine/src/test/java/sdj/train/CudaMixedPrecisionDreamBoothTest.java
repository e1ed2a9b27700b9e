package sdj.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import sdj.backend.cuda.Cuda;
import sdj.io.SafeTensors;
import sdj.io.StateDicts;
import sdj.io.TestData;
import sdj.nn.Parameter;
import sdj.sd.ModelConfigFiles;
import sdj.sd.StableDiffusionModel;
import sdj.tensor.DType;
import sdj.tensor.Device;
import sdj.tensor.Storage;
import sdj.tensor.Tensor;
import sdj.train.optim.AdamW;
import sdj.train.optim.MasterWeightStep;
import sdj.train.optim.MixedPrecision;
import sdj.train.optim.ParamGroup;

/**
 * Two DreamBooth updates of the whole sd-tiny UNet in fp16 and in bf16 mixed precision on the GPU (one on the
 * host emulator) track the same updates in fp32 on the CPU: the losses, the pre-clipping gradient norms (of the
 * unscaled gradients) and every weight afterwards. Inputs from sd-tiny-train (section E's hyperparameters, its
 * offset noise and context), cut to one instance sample and an 8×8 latent so that the emulator runs it in seconds.
 *
 * <p>Tolerances: weights and activations are rounded to fp16 (unit roundoff u = 2⁻¹¹ ≈ 4.9e-4) or bf16
 * (u = 2⁻⁸ ≈ 3.9e-3) at every layer, and errors of that order average out in a mean of squares: the loss gets
 * 2u relative (1e-3 in fp16, 8e-3 in bf16), the gradient norm 4u (backward rounds again: 2e-3, 1.6e-2). The
 * weights: Adam's first steps are about lr·sign(g), so where rounding flips the sign of a small gradient that
 * element's update differs by up to 2·lr per step; a fraction f of flipped elements makes
 * ‖ΔW − ΔW₃₂‖/‖ΔW₃₂‖ ≈ 2√f, held to 0.12 in fp16 (f ≲ 0.4 %) and 0.35 in bf16 (f ≲ 3 %), where a missing update
 * gives 1 and a sign error 2; and no element may differ by more than all its steps flipped: 2·lr after one
 * update, 2·(1 + 1.0013)·lr after two (step 2 of Adam is at most √(a²/c + b²/d) = 1.0013·lr for β 0.9, 0.999),
 * plus fp32 rounding. Measured on the emulator when written (two updates each): loss 5.7e-5 and 1.7e-4 (fp16),
 * 6.6e-4 and 1.4e-3 (bf16); gradient norms 2.6e-4, 2.3e-4 (fp16), 3.1e-3, 1.9e-3 (bf16); update error 0.059
 * (fp16), 0.167 (bf16); max weight difference 3.78e-4 (fp16), 4.00e-4 (bf16: both steps of some element flipped).
 * One update (the emulator's run, 35 s there on an idle machine): update error 0.081 (fp16), 0.235 (bf16); max
 * weight difference 2.00e-4 (= 2·lr) in both.
 */
class CudaMixedPrecisionDreamBoothTest {
    private static final String UNET = "model.diffusion_model.";
    private static final double LR = 1e-4; // section E
    private static final int SIZE = 8;

    /** One run's losses, gradient norms and weights after the updates (fp32 masters), by name. */
    private record Run(float[] losses, float[] norms, Map<String, float[]> weights, Map<String, float[]> initial) {
    }

    @ParameterizedTest
    @EnumSource(value = MixedPrecision.class, names = {"FP16", "BF16"})
    void twoUpdatesTrackFp32(MixedPrecision precision) throws Exception {
        assumeTrue(Cuda.available(), () -> "skipped: CUDA unavailable: " + Cuda.unavailableReason());
        // one update on the slow emulator (the scaler's carry-over to a second step is CudaMixedPrecisionTrainerTest's)
        int updates = Cuda.device().isEmulated() ? 1 : 2;
        Run mixed = run(Device.CUDA, precision, updates);
        Run fp32 = run(Device.CPU, MixedPrecision.NO, updates);
        double u = precision == MixedPrecision.FP16 ? 0x1p-11 : 0x1p-8; // the dtype's unit roundoff
        for (int k = 0; k < updates; k++) {
            double lossErr = Math.abs(mixed.losses[k] - fp32.losses[k]) / fp32.losses[k];
            double normErr = Math.abs(mixed.norms[k] - fp32.norms[k]) / fp32.norms[k];
            System.out.printf("%s update %d: loss %.6f vs fp32 %.6f (rel %.2e), grad norm %.5f vs %.5f (rel %.2e)%n",
                    precision, k + 1, mixed.losses[k], fp32.losses[k], lossErr, mixed.norms[k], fp32.norms[k], normErr);
            assertTrue(lossErr <= 2 * u, precision + " loss " + (k + 1) + " relative error " + lossErr);
            assertTrue(normErr <= 4 * u, precision + " gradient norm " + (k + 1) + " relative error " + normErr);
            assertTrue(fp32.norms[k] > 1, "clipping engaged (max_grad_norm 1)");
        }
        double diff2 = 0;
        double ref2 = 0;
        double maxDiff = 0;
        for (var e : fp32.weights.entrySet()) {
            float[] a = mixed.weights.get(e.getKey());
            float[] b = e.getValue();
            float[] w0 = fp32.initial.get(e.getKey());
            for (int i = 0; i < b.length; i++) {
                double d = (double) a[i] - b[i];
                double delta = (double) b[i] - w0[i];
                diff2 += d * d;
                ref2 += delta * delta;
                maxDiff = Math.max(maxDiff, Math.abs(d));
            }
        }
        double updateErr = Math.sqrt(diff2 / ref2);
        System.out.printf("%s weights after %d updates: |dW - dW32| / |dW32| %.3e, max |W - W32| %.3e (lr %.0e)%n",
                precision, updates, updateErr, maxDiff, LR);
        assertTrue(ref2 > 0, "the fp32 updates moved the weights");
        assertTrue(updateErr <= (precision == MixedPrecision.FP16 ? 0.12 : 0.35), precision + " update error " + updateErr);
        double flippedSteps = 2 * (1 + (updates - 1) * 1.0013) * LR; // every step of an element flipped
        assertTrue(maxDiff <= flippedSteps + 1e-2 * LR, precision + " max weight difference " + maxDiff);
    }

    private static Run run(Device device, MixedPrecision precision, int updates) throws Exception {
        SafeTensors ref = SafeTensors.open(TrainTestData.reference());
        Map<String, Tensor> in = ref.tensors();
        Map<String, Tensor> stateDict = StateDicts.load(TestData.sdTiny("model.ckpt")); // fresh: fp32 training updates it
        Map<String, float[]> initial = new TreeMap<>();
        stateDict.forEach((k, t) -> {
            if (k.startsWith(UNET)) {
                initial.put(k, t.to(Device.CPU, DType.F32).toFloatArray().clone());
            }
        });
        DType dtype = precision.dtype();
        StableDiffusionModel model = StableDiffusionModel.fromStateDict(stateDict,
                ModelConfigFiles.fromMetadata(ref.metadata(), "train-reference"), "model.ckpt", device, dtype);
        model.store().setTrainable(name -> name.startsWith(UNET));
        List<Parameter> params = model.store().trainable();
        MixedPrecision.startMasters(params, stateDict);
        AdamW adamw = new AdamW(List.of(new ParamGroup(params, LR, 1e-2)), 0.9, 0.999, 1e-8);
        MasterWeightStep step = new MasterWeightStep(params, adamw::step, precision.newScaler(), 1.0);

        DiffusionBatch batch = new DiffusionBatch(onModel(crop(in.get("in.latents")), device, dtype),
                new long[] {in.get("in.t").toLongArray()[0]}, onModel(crop(in.get("db.noise")), device, dtype),
                onModel(in.get("db.context").narrow(0, 0, 1), device, dtype));
        DiffusionObjective objective = new DiffusionObjective(NoiseSchedule.sdV1(), new DiffusionLoss(1, 1.0, 5.0));
        float[] losses = new float[updates];
        float[] norms = new float[updates];
        for (int k = 0; k < updates; k++) {
            Tensor loss = objective.forward(model.unet(), batch).loss();
            assertEquals(DType.F32, loss.dtype(), "the loss is computed in fp32");
            losses[k] = loss.cpu().item();
            step.lossForBackward(loss).backward();
            MasterWeightStep.Outcome outcome = step.step();
            assertEquals(MasterWeightStep.Kind.APPLIED, outcome.kind(), "update " + (k + 1));
            norms[k] = outcome.gradNorm();
            params.forEach(p -> p.tensor().zeroGrad());
        }
        Map<String, float[]> weights = new TreeMap<>();
        for (Parameter p : params) {
            float[] master = p.master().to(Device.CPU, DType.F32).toFloatArray();
            weights.put(p.name(), master);
            if (dtype != DType.F32) {
                assertArrayEquals(rounded(master, dtype), p.tensor().to(Device.CPU, DType.F32).toFloatArray(), 0f,
                        p.name() + " is its master rounded");
            }
        }
        return new Run(losses, norms, weights, initial);
    }

    /** Sample 0, its top-left 8×8 latent pixels. */
    private static Tensor crop(Tensor t) {
        return Tensor.of(t.narrow(0, 0, 1).narrow(2, 0, SIZE).narrow(3, 0, SIZE).toFloatArray(), 1, t.size(1), SIZE,
                SIZE);
    }

    private static Tensor onModel(Tensor t, Device device, DType dtype) {
        return device == Device.CPU ? t : t.to(device, dtype);
    }

    private static float[] rounded(float[] v, DType dtype) {
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = dtype == DType.F16 ? Float.float16ToFloat(Float.floatToFloat16(v[i]))
                    : Float.intBitsToFloat((Storage.floatToBf16(v[i]) & 0xffff) << 16);
        }
        return out;
    }
}
