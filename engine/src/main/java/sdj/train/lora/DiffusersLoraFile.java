package sdj.train.lora;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import sdj.io.SafeTensors;
import sdj.nn.LoraAdapter;
import sdj.sd.DiffusersNames;
import sdj.tensor.Tensor;

/**
 * Writes trained adapters as diffusers' {@code pytorch_lora_weights.safetensors}, in the format diffusers' own
 * {@code train_dreambooth_lora.py} saves at the TRAINING-FACTS snapshot (§3.6, {@code convert_state_dict_to_diffusers}
 * of the PEFT state dict): UNet {@code unet.<diffusers path>.lora.down.weight} / {@code .lora.up.weight}, text encoder
 * {@code text_encoder.<path>.lora_linear_layer.down.weight} / {@code .up.weight}, metadata {@code format = pt}. The
 * format stores no alpha (scale 1 is implied), so an adapter with alpha ≠ rank is written with its scale folded into
 * up (up·alpha/rank): the same ΔW = scale·up·down for every loader.
 */
public final class DiffusersLoraFile {
    public static final String FILE_NAME = "pytorch_lora_weights.safetensors";

    private DiffusersLoraFile() {
    }

    /** The file's tensors, by diffusers name. */
    public static Map<String, Tensor> tensors(Map<String, LoraAdapter> adapters, DiffusersNames names) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        adapters.forEach((module, a) -> {
            String d = names.toDiffusers(module);
            if (d == null) {
                throw new IllegalArgumentException("the adapter on '" + module + "' has no diffusers name (only UNet and"
                        + " text encoder layers have one); adapt only UNet and text-encoder layers to save a diffusers file");
            }
            boolean textEncoder = d.startsWith(DiffusersNames.TEXT_ENCODER);
            String down = textEncoder ? ".lora_linear_layer.down.weight" : ".lora.down.weight";
            String up = textEncoder ? ".lora_linear_layer.up.weight" : ".lora.up.weight";
            out.put(d + down, KohyaLoraFile.host(a.down().master())); // fp16/bf16 training: its fp32 masters
            Tensor u = KohyaLoraFile.host(a.up().master());
            out.put(d + up, a.scale() == 1f ? u : u.mul(a.scale()));
        });
        return out;
    }

    /** Writes {@link #tensors} to {@code file} with diffusers' metadata. */
    public static void write(Path file, Map<String, LoraAdapter> adapters, DiffusersNames names) throws IOException {
        SafeTensors.write(file, tensors(adapters, names), Map.of("format", "pt"));
    }
}
