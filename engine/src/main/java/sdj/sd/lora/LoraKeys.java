package sdj.sd.lora;

import java.util.List;

/**
 * The tensor names of LoRA files as the common tools write them, split into the adapted module (as
 * the file names it) and the tensor's role. Recognised (TRAINING-FACTS §3.6, §4):
 * <ul>
 *   <li>kohya: {@code M.lora_down.weight}, {@code M.lora_up.weight}, {@code M.alpha}, {@code M.scale};</li>
 *   <li>diffusers: {@code M.lora.down.weight}/{@code .lora.up.weight} (UNet),
 *       {@code M.lora_linear_layer.down.weight}/{@code .up.weight} (text encoder);</li>
 *   <li>PEFT: {@code M.lora_A.weight}/{@code M.lora_B.weight} (also {@code .lora_A.default.weight});</li>
 *   <li>diffusers ≤ 0.20 attention processors: {@code A.processor.to_q_lora.down.weight}, where the
 *       module is {@code A.to_q} ({@code to_out_lora} is {@code A.to_out.0});</li>
 *   <li>full-rank differences as sd.cpp reads them: {@code M.diff} (ΔW), {@code M.diff_b} (Δbias).</li>
 * </ul>
 */
final class LoraKeys {
    enum Role { DOWN, UP, ALPHA, SCALE, DIFF, DIFF_BIAS }

    /** A tensor's module and role. */
    record Part(String module, Role role) {
    }

    private record Suffix(String text, Role role) {
    }

    private static final List<Suffix> SUFFIXES = List.of(new Suffix(".lora_down.weight", Role.DOWN),
            new Suffix(".lora_up.weight", Role.UP), new Suffix(".lora.down.weight", Role.DOWN),
            new Suffix(".lora.up.weight", Role.UP), new Suffix(".lora_linear_layer.down.weight", Role.DOWN),
            new Suffix(".lora_linear_layer.up.weight", Role.UP), new Suffix(".lora_A.default.weight", Role.DOWN),
            new Suffix(".lora_B.default.weight", Role.UP), new Suffix(".lora_A.weight", Role.DOWN),
            new Suffix(".lora_B.weight", Role.UP), new Suffix(".alpha", Role.ALPHA), new Suffix(".scale", Role.SCALE),
            new Suffix(".diff", Role.DIFF), new Suffix(".diff_b", Role.DIFF_BIAS));

    private static final String PROCESSOR = ".processor.";

    private LoraKeys() {
    }

    /** The module and role of a tensor name, or null when it is no LoRA tensor name known here. */
    static Part parse(String key) {
        if (key.contains(PROCESSOR) && (key.endsWith("_lora.down.weight") || key.endsWith("_lora.up.weight"))) {
            boolean down = key.endsWith(".down.weight");
            String module = key.substring(0, key.length() - (down ? ".down.weight" : ".up.weight").length());
            return new Part(processorModule(module), down ? Role.DOWN : Role.UP);
        }
        for (Suffix s : SUFFIXES) {
            if (key.endsWith(s.text) && key.length() > s.text.length()) {
                return new Part(key.substring(0, key.length() - s.text.length()), s.role);
            }
        }
        return null;
    }

    /** {@code A.processor.to_q_lora} → {@code A.to_q}; {@code to_out_lora} → {@code A.to_out.0}; others unchanged. */
    private static String processorModule(String module) {
        int p = module.lastIndexOf(PROCESSOR);
        if (p < 0 || !module.endsWith("_lora")) {
            return module;
        }
        String projection = module.substring(p + PROCESSOR.length(), module.length() - "_lora".length());
        return module.substring(0, p + 1) + (projection.equals("to_out") ? "to_out.0" : projection);
    }
}
