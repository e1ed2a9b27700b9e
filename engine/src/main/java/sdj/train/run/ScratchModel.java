package sdj.train.run;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import sdj.io.SafeTensors;
import sdj.io.StateDicts;
import sdj.sd.ModelConfigs;
import sdj.sd.StableDiffusionModel;
import sdj.sd.clip.ClipTextModel;
import sdj.sd.unet.UNetModel;
import sdj.sd.vae.AutoencoderKL;
import sdj.tensor.Tensor;

/**
 * The starting weights of a text-to-image run from scratch (diffusers' {@code train_text_to_image.py} without a
 * pretrained UNet): seeded random weights ({@link StableDiffusionModel#random}, torch's default kaiming-uniform
 * for convolutions and linears), with LDM's {@code zero_module} layers zeroed — each ResBlock's last conv
 * ({@code out_layers.3}), each SpatialTransformer's {@code proj_out} and the UNet's final conv ({@code out.2}),
 * as CompVis' openaimodel.py and attention.py build them — and CLIP's position embedding N(0, 0.01²) (Hugging Face
 * CLIPTextModel's {@code _init_weights}; the token embedding is already N(0, 0.02²)). The VAE comes from a file
 * (its {@code first_stage_model.*} keys), since the UNet learns the latents of a trained VAE.
 */
public final class ScratchModel {
    static final String UNET = UNetModel.PREFIX + ".";
    static final String POSITION_EMBEDDING = ClipTextModel.PREFIX + ".embeddings.position_embedding.weight";
    static final String VAE = AutoencoderKL.PREFIX + ".";

    private ScratchModel() {
    }

    /** Whether LDM zero-initialises the parameter {@code name} (a zero_module's weight or bias). */
    public static boolean zeroInitialised(String name) {
        if (!name.startsWith(UNET)) {
            return false;
        }
        String local = name.substring(UNET.length());
        return local.matches(".*\\.out_layers\\.3\\.(weight|bias)") || local.matches(".*\\.proj_out\\.(weight|bias)")
                || local.matches("out\\.2\\.(weight|bias)");
    }

    /** The random state dict of {@code configs} seeded by {@code seed}, LDM's zero layers and CLIP's init applied. */
    public static Map<String, Tensor> initial(ModelConfigs configs, long seed) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        StableDiffusionModel.random(configs, seed).parameters().forEach((name, t) -> {
            if (zeroInitialised(name)) {
                out.put(name, Tensor.zeros(t.shape()));
            } else if (name.equals(POSITION_EMBEDDING)) {
                float[] v = t.toFloatArray().clone();
                for (int i = 0; i < v.length; i++) {
                    v[i] *= 0.5f; // N(0, 0.02²) × 0.5 = N(0, 0.01²)
                }
                out.put(name, Tensor.of(v, t.shape()));
            } else {
                out.put(name, t);
            }
        });
        return out;
    }

    /**
     * {@code stateDict} with its VAE replaced by {@code vaeFile}'s {@code first_stage_model.*} tensors; one sentence
     * when the file lacks one or has another shape.
     */
    public static Map<String, Tensor> withVae(Map<String, Tensor> stateDict, Path vaeFile) throws IOException {
        Map<String, Tensor> vae = StateDicts.load(vaeFile);
        Map<String, Tensor> out = new LinkedHashMap<>(stateDict);
        for (Map.Entry<String, Tensor> e : stateDict.entrySet()) {
            if (!e.getKey().startsWith(VAE)) {
                continue;
            }
            Tensor t = vae.get(e.getKey());
            if (t == null) {
                throw new IllegalArgumentException("VAE file " + vaeFile + " has no tensor '" + e.getKey() + "'; give the"
                        + " VAE that 'sdj train vae' wrote for this model config (keys first_stage_model.*).");
            }
            if (!java.util.Arrays.equals(t.shape(), e.getValue().shape())) {
                throw new IllegalArgumentException("VAE file " + vaeFile + ": tensor '" + e.getKey() + "' has shape "
                        + java.util.Arrays.toString(t.shape()) + " but the model config expects "
                        + java.util.Arrays.toString(e.getValue().shape()) + "; give the VAE trained with the same config.");
            }
            out.put(e.getKey(), t.to(sdj.tensor.Device.CPU, sdj.tensor.DType.F32));
        }
        return out;
    }

    /** The VAE file's "scale_factor" metadata (a .safetensors written by 'sdj train vae'), or null when it has none. */
    public static Float scaleFactorOf(Path vaeFile) throws IOException {
        if (StateDicts.formatOf(vaeFile) != StateDicts.Format.SAFETENSORS) {
            return null;
        }
        String value = SafeTensors.open(vaeFile).metadata().get("scale_factor");
        if (value == null) {
            return null;
        }
        try {
            float f = Float.parseFloat(value.trim());
            if (f > 0 && Float.isFinite(f)) {
                return f;
            }
        } catch (NumberFormatException e) {
            // falls through to the sentence below
        }
        throw new IllegalArgumentException("VAE file " + vaeFile + " has metadata scale_factor \"" + value + "\", which is"
                + " not a positive number; fix or remove it.");
    }
}
