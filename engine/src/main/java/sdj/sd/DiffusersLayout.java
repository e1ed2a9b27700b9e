package sdj.sd;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import sdj.sd.vae.AutoencoderKL;
import sdj.sd.vae.VaeConfig;
import sdj.tensor.Tensor;

/**
 * Full checkpoint keys of an SD v1 model in the CompVis (LDM) layout ↔ the keys of a diffusers folder's component
 * files ({@code unet/}, {@code vae/}, {@code text_encoder/}), with the one change of shape: the VAE mid-block
 * attention's q, k, v and proj_out are 1×1 convolutions [C, C, 1, 1] in LDM and linear layers [C, C] in diffusers.
 * The UNet and CLIP names come from {@link DiffusersNames}; the VAE's follow diffusers'
 * {@code convert_diffusers_to_original_stable_diffusion.py} (TRAINING-FACTS §5), with the attention under the names
 * of diffusers ≥ 0.14 ({@code group_norm}, {@code to_q}, {@code to_k}, {@code to_v}, {@code to_out.0}; older
 * releases said query/key/value/proj_attn, and current ones convert those on load). The LDM schedule buffers
 * ({@code betas}, {@code alphas_cumprod}, …) have no key in diffusers: its scheduler config holds the schedule.
 */
public final class DiffusersLayout {
    /** A diffusers component folder and its weights file. */
    public enum Component {
        UNET("unet", "diffusion_pytorch_model.safetensors"),
        VAE("vae", "diffusion_pytorch_model.safetensors"),
        TEXT_ENCODER("text_encoder", "model.safetensors");

        public final String folder;
        public final String weightsFile;

        Component(String folder, String weightsFile) {
            this.folder = folder;
            this.weightsFile = weightsFile;
        }
    }

    /** A key inside one component's weights file. */
    public record Key(Component component, String name) {
    }

    private static final String LDM_VAE = AutoencoderKL.PREFIX + ".";
    /** Inside a VAE res block only the shortcut is renamed; norm1, conv1, norm2, conv2 are the same. */
    private static final String[] VAE_RESNET_CHILD = {"nin_shortcut", "conv_shortcut"};
    /** Inside the VAE mid attention: LDM child ↔ diffusers child; the last four are the reshaped 1×1 convs. */
    private static final List<String[]> VAE_ATTENTION_CHILDREN = List.of(new String[] {"norm", "group_norm"},
            new String[] {"q", "to_q"}, new String[] {"k", "to_k"}, new String[] {"v", "to_v"},
            new String[] {"proj_out", "to_out.0"});

    private enum Kind { PLAIN, RESNET, ATTENTION }

    /** One VAE module: LDM path ↔ diffusers path (without prefixes), and how its children are named. */
    private record Block(String ldm, String diffusers, Kind kind) {
    }

    private final DiffusersNames unetAndClip;
    private final List<Block> vae;

    private DiffusersLayout(DiffusersNames unetAndClip, List<Block> vae) {
        this.unetAndClip = unetAndClip;
        this.vae = List.copyOf(vae);
    }

    /** The layout of a model of these configs (block numbering from the UNet and VAE configs, as diffusers'). */
    public static DiffusersLayout of(ModelConfigs configs) {
        return new DiffusersLayout(DiffusersNames.of(configs.unet()), vaeBlocks(configs.vae()));
    }

    private static List<Block> vaeBlocks(VaeConfig c) {
        List<Block> b = new ArrayList<>();
        int levels = c.chMult().length;
        for (String part : List.of("encoder", "decoder")) {
            b.add(new Block(part + ".conv_in", part + ".conv_in", Kind.PLAIN));
            b.add(new Block(part + ".mid.block_1", part + ".mid_block.resnets.0", Kind.RESNET));
            b.add(new Block(part + ".mid.attn_1", part + ".mid_block.attentions.0", Kind.ATTENTION));
            b.add(new Block(part + ".mid.block_2", part + ".mid_block.resnets.1", Kind.RESNET));
            b.add(new Block(part + ".norm_out", part + ".conv_norm_out", Kind.PLAIN));
            b.add(new Block(part + ".conv_out", part + ".conv_out", Kind.PLAIN));
        }
        for (int i = 0; i < levels; i++) {
            for (int j = 0; j < c.numResBlocks(); j++) {
                b.add(new Block("encoder.down." + i + ".block." + j, "encoder.down_blocks." + i + ".resnets." + j,
                        Kind.RESNET));
            }
            if (i < levels - 1) {
                b.add(new Block("encoder.down." + i + ".downsample", "encoder.down_blocks." + i + ".downsamplers.0",
                        Kind.PLAIN));
            }
            int ldmLevel = levels - 1 - i; // diffusers numbers the decoder's up blocks from the bottom
            for (int j = 0; j <= c.numResBlocks(); j++) {
                b.add(new Block("decoder.up." + ldmLevel + ".block." + j, "decoder.up_blocks." + i + ".resnets." + j,
                        Kind.RESNET));
            }
            if (i < levels - 1) {
                b.add(new Block("decoder.up." + ldmLevel + ".upsample", "decoder.up_blocks." + i + ".upsamplers.0",
                        Kind.PLAIN));
            }
        }
        b.add(new Block("quant_conv", "quant_conv", Kind.PLAIN));
        b.add(new Block("post_quant_conv", "post_quant_conv", Kind.PLAIN));
        return b;
    }

    /** The diffusers key of a full LDM checkpoint key, or null for keys diffusers has none for (schedule buffers). */
    public Key toDiffusers(String ldm) {
        if (ldm.startsWith(LDM_VAE)) {
            String path = ldm.substring(LDM_VAE.length());
            for (Block b : vae) {
                String rest = remainder(path, b.ldm);
                if (rest != null) {
                    return new Key(Component.VAE, b.diffusers + renameChild(b.kind, rest, 0, 1));
                }
            }
            return null;
        }
        String name = unetAndClip.toDiffusers(ldm);
        if (name == null) {
            return null;
        }
        return name.startsWith(DiffusersNames.UNET) ? new Key(Component.UNET, name.substring(DiffusersNames.UNET.length()))
                : new Key(Component.TEXT_ENCODER, name.substring(DiffusersNames.TEXT_ENCODER.length()));
    }

    /** The full LDM checkpoint key of a diffusers key, or null when the component has no such module. */
    public String toLdm(Key key) {
        return switch (key.component()) {
            case UNET -> unetAndClip.unetToLdm(key.name());
            case TEXT_ENCODER -> DiffusersNames.textEncoderToLdm(key.name());
            case VAE -> {
                for (Block b : vae) {
                    String rest = remainder(key.name(), b.diffusers);
                    if (rest != null) {
                        yield LDM_VAE + b.ldm + renameChild(b.kind, rest, 1, 0);
                    }
                }
                yield null;
            }
        };
    }

    /**
     * An LDM state dict as the tensors of each diffusers component, in the LDM order, the VAE attention's 1×1 conv
     * weights viewed as [C, C]. Keys without a diffusers key (schedule buffers) are left out; the tensors are the
     * given ones (or views of them), not copies.
     */
    public Map<Component, Map<String, Tensor>> toDiffusers(Map<String, Tensor> ldm) {
        Map<Component, Map<String, Tensor>> out = new LinkedHashMap<>();
        for (Component c : Component.values()) {
            out.put(c, new LinkedHashMap<>());
        }
        ldm.forEach((name, t) -> {
            Key key = toDiffusers(name);
            if (key == null) {
                return;
            }
            Tensor previous = out.get(key.component()).put(key.name(), linearIfVaeAttention(key, t));
            if (previous != null) {
                throw new IllegalStateException("two LDM keys map to diffusers key " + key + "; the layout table is wrong");
            }
        });
        return out;
    }

    /** The inverse of {@link #toDiffusers(Map)}: diffusers components back to LDM keys and shapes. */
    public Map<String, Tensor> toLdm(Map<Component, Map<String, Tensor>> components) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        components.forEach((component, tensors) -> tensors.forEach((name, t) -> {
            Key key = new Key(component, name);
            String ldm = toLdm(key);
            if (ldm == null) {
                throw new IllegalArgumentException("diffusers " + component.folder + " key '" + name + "' has no LDM"
                        + " counterpart; is the folder an SD v1 model of this config?");
            }
            out.put(ldm, isVaeAttentionWeight(key) && t.shape().length == 2 ? t.reshape(t.size(0), t.size(1), 1, 1) : t);
        }));
        return out;
    }

    private static Tensor linearIfVaeAttention(Key key, Tensor t) {
        return isVaeAttentionWeight(key) && t.shape().length == 4 ? t.reshape(t.size(0), t.size(1)) : t;
    }

    /** The weights diffusers keeps as linear layers where LDM has 1×1 convs: the VAE attention's q, k, v, out. */
    static boolean isVaeAttentionWeight(Key key) {
        if (key.component() != Component.VAE || !key.name().endsWith(".weight") || !key.name().contains(".attentions.")) {
            return false;
        }
        return VAE_ATTENTION_CHILDREN.subList(1, VAE_ATTENTION_CHILDREN.size()).stream()
                .anyMatch(pair -> key.name().endsWith("." + pair[1] + ".weight"));
    }

    /** What follows {@code prefix} in {@code path} ("" or ".child…"), or null when the path is not inside it. */
    private static String remainder(String path, String prefix) {
        if (!path.startsWith(prefix)) {
            return null;
        }
        String rest = path.substring(prefix.length());
        return rest.isEmpty() || rest.charAt(0) == '.' ? rest : null;
    }

    /** rest = ".child…" with its first child renamed from column {@code from} to {@code to} of the kind's table. */
    private static String renameChild(Kind kind, String rest, int from, int to) {
        List<String[]> table = switch (kind) {
            case PLAIN -> List.of();
            case RESNET -> List.<String[]>of(VAE_RESNET_CHILD);
            case ATTENTION -> VAE_ATTENTION_CHILDREN;
        };
        String child = rest.isEmpty() ? "" : rest.substring(1);
        for (String[] pair : table) {
            String tail = remainder(child, pair[from]);
            if (tail != null) {
                return "." + pair[to] + tail;
            }
        }
        return rest;
    }
}
