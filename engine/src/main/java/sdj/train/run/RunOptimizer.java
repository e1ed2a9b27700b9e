package sdj.train.run;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import sdj.nn.Parameter;
import sdj.tensor.DType;
import sdj.tensor.Device;
import sdj.tensor.Shape;
import sdj.tensor.Storage;
import sdj.tensor.Tensor;
import sdj.train.optim.AdamW;
import sdj.train.optim.AdamW8bit;
import sdj.train.optim.ParamGroup;

/**
 * The trainer's optimizer: torch's AdamW, or with {@code use8bitAdam} bitsandbytes' block-wise AdamW8bit (CPU only),
 * and its state as a {@link TrainingCheckpoint} keeps it. AdamW's fp32 moments go under {@code exp_avg/} and
 * {@code exp_avg_sq/}; AdamW8bit's moments are kept exactly as it holds them, the byte codes under
 * {@code state1/} and {@code state2/} (uint8) and each block's absmax under {@code absmax1/} and {@code absmax2/}
 * (bitsandbytes' state names), its small tensors' fp32 moments as AdamW's, so a resumed run continues bit for bit.
 */
final class RunOptimizer {
    static final String ADAMW = "adamw";
    static final String ADAMW8BIT = "adamw8bit";
    static final List<String> QUANTIZED_PREFIXES = List.of("state1/", "absmax1/", "state2/", "absmax2/");

    private final AdamW adamw;
    private final AdamW8bit eightBit;

    private RunOptimizer(AdamW adamw, AdamW8bit eightBit) {
        this.adamw = adamw;
        this.eightBit = eightBit;
    }

    /** The optimizer the config names over groups; AdamW8bit with a parameter on CUDA is one sentence. */
    static RunOptimizer open(TrainConfig config, List<ParamGroup> groups) {
        if (!config.use8bitAdam()) {
            return new RunOptimizer(new AdamW(groups, config.adamBeta1(), config.adamBeta2(), config.adamEpsilon()), null);
        }
        for (ParamGroup g : groups) {
            for (Parameter p : g.params()) {
                if (p.tensor().device() != Device.CPU || p.tensor().dtype() != DType.F32) {
                    throw new IllegalArgumentException("use8bitAdam (adamw8bit) runs on the CPU with fp32 weights only,"
                            + " but '" + p.name() + "' is " + p.tensor().dtype() + " on " + p.tensor().device()
                            + "; train on the CPU or leave use8bitAdam off (AdamW's fp32 moments run on CUDA).");
                }
            }
        }
        return new RunOptimizer(null, new AdamW8bit(groups, config.adamBeta1(), config.adamBeta2(),
                config.adamEpsilon(), AdamW8bit.MIN_QUANTIZED_SIZE));
    }

    /** "adamw" or "adamw8bit", as a checkpoint records it. */
    String name() {
        return adamw != null ? ADAMW : ADAMW8BIT;
    }

    /** One update with the gradients {@code grads} gives (a trainer that keeps unscaled fp32 copies). */
    void step(AdamW.GradientSource grads) {
        if (adamw != null) {
            adamw.step(grads);
        } else {
            eightBit.step(grads);
        }
    }

    /** p's state into the checkpoint's maps (nothing before p's first update but its step count 0). */
    void save(Parameter p, Map<String, Tensor> expAvg, Map<String, Tensor> expAvgSq, Map<String, Tensor> quantized,
            Map<String, Long> steps) {
        String name = p.name();
        if (adamw != null) {
            if (adamw.stepCount(p) > 0) {
                expAvg.put(name, host(adamw.expAvg(p)));
                expAvgSq.put(name, host(adamw.expAvgSq(p)));
            }
            steps.put(name, adamw.stepCount(p));
            return;
        }
        AdamW8bit.Saved s = eightBit.saved(p);
        steps.put(name, s == null ? 0L : s.step());
        if (s == null) {
            return;
        }
        int[] shape = p.shape();
        if (s.quantized()) {
            quantized.put("state1/" + name, bytes(s.m8()));
            quantized.put("absmax1/" + name, Tensor.of(s.mAbsmax().clone(), s.mAbsmax().length));
            quantized.put("state2/" + name, bytes(s.v8()));
            quantized.put("absmax2/" + name, Tensor.of(s.vAbsmax().clone(), s.vAbsmax().length));
        } else {
            expAvg.put(name, Tensor.of(s.m32(), shape));
            expAvgSq.put(name, Tensor.of(s.v32(), shape));
        }
    }

    /** Puts back p's state from a checkpoint folder's contents; a missing or misfitting part is one sentence. */
    void restore(Parameter p, TrainingCheckpoint ck, Path folder) {
        String name = p.name();
        long step = ck.optimizerSteps().getOrDefault(name, 0L);
        boolean quantizedState = ck.quantized().containsKey("state1/" + name);
        boolean plain = ck.expAvg().get(name) != null && ck.expAvgSq().get(name) != null;
        if (step > 0 && !quantizedState && !plain) {
            throw new IllegalArgumentException("Checkpoint " + folder + " has no optimizer moments for '" + name
                    + "' though it counts " + step + " updates; resume from another checkpoint.");
        }
        if (adamw != null) {
            adamw.restore(p, ck.expAvg().get(name), ck.expAvgSq().get(name), step);
            return;
        }
        if (step == 0) {
            eightBit.restore(p, null);
        } else if (quantizedState) {
            eightBit.restore(p, new AdamW8bit.Saved(step, codes(ck, "state1/" + name, folder),
                    floats(ck, "absmax1/" + name, folder), codes(ck, "state2/" + name, folder),
                    floats(ck, "absmax2/" + name, folder), null, null));
        } else {
            eightBit.restore(p, new AdamW8bit.Saved(step, null, null, null, null,
                    ck.expAvg().get(name).to(Device.CPU, DType.F32).toFloatArray().clone(),
                    ck.expAvgSq().get(name).to(Device.CPU, DType.F32).toFloatArray().clone()));
        }
    }

    private static Tensor host(Tensor t) {
        return t.detach().to(Device.CPU, DType.F32);
    }

    /** Byte codes as a uint8 tensor (one byte per element in the file). */
    private static Tensor bytes(byte[] codes) {
        return new Tensor(Storage.ofSegment(MemorySegment.ofArray(codes.clone()), DType.U8), new int[] {codes.length},
                new int[] {1}, 0);
    }

    private static byte[] codes(TrainingCheckpoint ck, String key, Path folder) {
        Tensor t = present(ck, key, folder);
        if (t.dtype() != DType.U8 || t.shape().length != 1 || !t.isContiguous()) {
            throw new IllegalArgumentException("Optimizer state " + folder.resolve(TrainingCheckpoint.OPTIMIZER) + " holds '"
                    + key + "' as " + t.dtype() + " " + Shape.str(t.shape()) + " where AdamW8bit's codes are 1-D uint8;"
                    + " resume from another checkpoint.");
        }
        long start = t.offset();
        return t.storage().segment().asSlice(start, t.numel()).toArray(ValueLayout.JAVA_BYTE);
    }

    private static float[] floats(TrainingCheckpoint ck, String key, Path folder) {
        return present(ck, key, folder).to(Device.CPU, DType.F32).toFloatArray().clone();
    }

    private static Tensor present(TrainingCheckpoint ck, String key, Path folder) {
        Tensor t = ck.quantized().get(key);
        if (t == null) {
            throw new IllegalArgumentException("Optimizer state " + folder.resolve(TrainingCheckpoint.OPTIMIZER)
                    + " lacks '" + key + "' of AdamW8bit's moments; resume from another checkpoint.");
        }
        return t;
    }
}
