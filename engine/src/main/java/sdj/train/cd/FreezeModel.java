package sdj.train.cd;

import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import sdj.nn.Parameter;
import sdj.nn.ParameterStore;

/**
 * Which UNet weights Custom Diffusion trains (adobe's {@code --freeze_model}): {@code crossattn-kv}, the
 * key and value projections of every cross-attention ({@code attn2.to_k.weight}, {@code attn2.to_v.weight},
 * 32 tensors in SD v1), or {@code crossattn}, every attn2 parameter (to_q, to_k, to_v, to_out.0).
 */
public enum FreezeModel {
    CROSSATTN_KV("crossattn-kv", Pattern.compile("^model\\.diffusion_model\\..*\\.attn2\\.to_[kv]\\.weight$")),
    CROSSATTN("crossattn", Pattern.compile("^model\\.diffusion_model\\..*\\.attn2\\..*$"));

    private final String flag;
    private final Pattern trained;

    FreezeModel(String flag, Pattern trained) {
        this.flag = flag;
        this.trained = trained;
    }

    public String flag() {
        return flag;
    }

    public static FreezeModel parse(String value) {
        for (FreezeModel f : values()) {
            if (f.flag.equals(value)) {
                return f;
            }
        }
        throw new IllegalArgumentException("--freeze-model must be crossattn-kv or crossattn, got '" + value + "'");
    }

    /** Whether the parameter with this full LDM name trains. */
    public Predicate<String> trains() {
        return name -> trained.matcher(name).matches();
    }

    /** The trained parameters of {@code store} in checkpoint-name order. */
    public List<Parameter> parameters(ParameterStore store) {
        return store.handles().entrySet().stream().filter(e -> trains().test(e.getKey()))
                .sorted(Map.Entry.comparingByKey()).map(Map.Entry::getValue).toList();
    }
}
