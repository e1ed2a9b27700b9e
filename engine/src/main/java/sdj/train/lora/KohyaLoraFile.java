package sdj.train.lora;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.Map;
import sdj.io.SafeTensors;
import sdj.nn.LoraAdapter;
import sdj.sd.KohyaNames;
import sdj.tensor.DType;
import sdj.tensor.Device;
import sdj.tensor.Tensor;

/**
 * Writes trained adapters as a kohya sd-scripts LoRA file (TRAINING-FACTS §4.1, §4.3, §4.7), the format sd.cpp,
 * A1111, ComfyUI, kohya's merge_lora.py and diffusers' kohya conversion all read: per module
 * {@code <kohya>.lora_down.weight} [r, in] (1×1 conv: [r, in, 1, 1]), {@code <kohya>.lora_up.weight} [out, r]
 * ([out, r, 1, 1]) and a 0-dim {@code <kohya>.alpha}, all float32; string metadata with kohya's minimum keys
 * ({@code ss_network_module}, {@code ss_network_dim}, {@code ss_network_alpha}, {@code ss_base_model_version},
 * {@code ss_v2}, {@code ss_network_args}), the SAI model-spec architecture and the caller's training settings.
 */
public final class KohyaLoraFile {
    static final String NETWORK_MODULE = "networks.lora";
    static final String ARCHITECTURE = "stable-diffusion-v1/lora";

    private KohyaLoraFile() {
    }

    /** The file's tensors, by kohya name; every adapter must have one (UNet or text encoder). */
    public static Map<String, Tensor> tensors(Map<String, LoraAdapter> adapters, KohyaNames names) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        adapters.forEach((module, a) -> {
            String kohya = names.toKohya(module);
            if (kohya == null) {
                throw new IllegalArgumentException("the adapter on '" + module + "' has no kohya name (only UNet and text"
                        + " encoder layers have one); adapt only UNet and text-encoder layers to save a kohya file");
            }
            // master(): the fp32 weights of fp16/bf16 training (the tensor itself in fp32)
            out.put(kohya + "." + LoraAdapter.DOWN, host(a.down().master()));
            out.put(kohya + "." + LoraAdapter.UP, host(a.up().master()));
            out.put(kohya + "." + LoraAdapter.ALPHA, host(a.alpha().tensor()));
        });
        return out;
    }

    /**
     * kohya's metadata for adapters of this rank and alpha (the minimum of {@code --no_metadata} plus the model
     * spec), then {@code settings} (e.g. {@code ss_unet_lr}, {@code ss_max_train_steps}; values as Python's str()).
     */
    public static Map<String, String> metadata(int rank, double alpha, String title, Map<String, String> settings) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("ss_network_module", NETWORK_MODULE);
        m.put("ss_network_dim", Integer.toString(rank));
        m.put("ss_network_alpha", PythonStrings.of(alpha));
        m.put("ss_network_args", "{}");
        m.put("ss_base_model_version", "sd_v1");
        m.put("ss_v2", PythonStrings.of(false));
        m.put("modelspec.sai_model_spec", "1.0.1");
        m.put("modelspec.architecture", ARCHITECTURE);
        m.put("modelspec.title", title);
        m.put("modelspec.date", Instant.now().truncatedTo(ChronoUnit.SECONDS).toString());
        m.putAll(settings);
        return m;
    }

    /** Writes {@link #tensors} and {@code metadata} to {@code file} (replaced atomically). */
    public static void write(Path file, Map<String, LoraAdapter> adapters, KohyaNames names, Map<String, String> metadata)
            throws IOException {
        SafeTensors.write(file, tensors(adapters, names), metadata);
    }

    /** {@code v} as Python's str() writes a float ("0.0001", "1e-05"), as kohya's metadata holds it. */
    public static String pythonFloat(double v) {
        return PythonStrings.of(v);
    }

    /** A contiguous fp32 host copy (the live tensor may be on a GPU or change with the next update). */
    static Tensor host(Tensor t) {
        Tensor h = t.detach().to(Device.CPU, DType.F32);
        return Tensor.of(h.toFloatArray().clone(), h.shape());
    }
}
