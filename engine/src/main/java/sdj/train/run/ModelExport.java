package sdj.train.run;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import sdj.io.SafeTensors;
import sdj.io.StateDicts;
import sdj.io.TorchCheckpointWriter;
import sdj.tensor.Device;
import sdj.tensor.Tensor;

/**
 * The fine-tuned model as one {@code .safetensors} or {@code .ckpt} file in the CompVis layout: every key of the base
 * checkpoint (UNet, VAE, text encoder, schedule buffers, position ids), in its order and dtype, with the
 * trained parameters' current values in place of the base ones. {@code sdj txt2img --ckpt} and any
 * loader of SD v1 checkpoints read it as they read the base.
 */
public final class ModelExport {
    private ModelExport() {
    }

    /**
     * The base state dict with {@code trained} (by checkpoint name) replacing its entries, each converted to
     * the base entry's dtype on the host. A trained name the base lacks is refused: the file would not load
     * as the model that was trained.
     */
    public static Map<String, Tensor> merge(Map<String, Tensor> base, Map<String, Tensor> trained) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        base.forEach((name, t) -> out.put(name, t));
        trained.forEach((name, t) -> {
            Tensor old = base.get(name);
            if (old == null) {
                throw new IllegalArgumentException("Trained parameter '" + name + "' is not in the base checkpoint;"
                        + " export a model whose trained names are the base's (adapters need their own file format).");
            }
            out.put(name, t.detach().to(Device.CPU, old.dtype()));
        });
        return out;
    }

    /** Writes {@link #merge}'s result to {@code file} (atomically: a temporary file renamed when complete). */
    public static void writeSafetensors(Path file, Map<String, Tensor> base, Map<String, Tensor> trained)
            throws IOException {
        SafeTensors.write(file, merge(base, trained), Map.of("format", "pt"));
    }

    /**
     * Writes {@link #merge}'s result in the format {@code file}'s extension names: {@code .safetensors}, or a
     * PyTorch zip checkpoint ({@code .ckpt}, {@code .pt}) holding {"state_dict": tensors} as CompVis' files do.
     * Either appears atomically.
     */
    public static void write(Path file, Map<String, Tensor> base, Map<String, Tensor> trained) throws IOException {
        if (StateDicts.formatOf(file) == StateDicts.Format.SAFETENSORS) {
            writeSafetensors(file, base, trained);
        } else {
            Map<String, Object> root = new LinkedHashMap<>();
            root.put("state_dict", merge(base, trained));
            TorchCheckpointWriter.write(file, root);
        }
    }
}
