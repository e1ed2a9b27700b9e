package sdj.sd;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import sdj.sd.clip.ClipTextModel;
import sdj.sd.unet.UNetConfig;
import sdj.sd.unet.UNetModel;

/**
 * LDM (CompVis checkpoint) ↔ diffusers names of the SD v1 UNet and CLIP text encoder, for module
 * paths and parameter keys alike. The block numbering follows the UNet config (levels, res blocks,
 * where attention sits), as the diffusers conversion script derives it for SD v1.
 *
 * <p>LDM keys are full checkpoint keys ({@code model.diffusion_model.input_blocks.1.1.proj_in.weight},
 * {@code cond_stage_model.transformer.text_model.encoder.layers.0.self_attn.q_proj}); diffusers names
 * carry their component prefix ({@code unet.down_blocks.0.attentions.0.proj_in.weight},
 * {@code text_encoder.text_model.encoder.layers.0.self_attn.q_proj}), as diffusers' LoRA files do.
 */
public final class DiffusersNames {
    public static final String UNET = "unet.";
    public static final String TEXT_ENCODER = "text_encoder.";
    private static final String LDM_UNET = UNetModel.PREFIX + ".";
    /** The text model sits one level below the CLIP wrapper in LDM: {@code cond_stage_model.transformer.text_model}. */
    private static final String LDM_CLIP = ClipTextModel.PREFIX.substring(0, ClipTextModel.PREFIX.lastIndexOf('.') + 1);

    /** Inside a res block: LDM child ↔ diffusers child. */
    private static final List<String[]> RESNET_CHILDREN = List.of(new String[] {"in_layers.0", "norm1"},
            new String[] {"in_layers.2", "conv1"}, new String[] {"out_layers.0", "norm2"},
            new String[] {"out_layers.3", "conv2"}, new String[] {"emb_layers.1", "time_emb_proj"},
            new String[] {"skip_connection", "conv_shortcut"});

    /** One block: LDM path ↔ diffusers path (no trailing dot), and whether its children are res-block names. */
    private record Block(String ldm, String diffusers, boolean resnet) {
    }

    private final List<Block> blocks;

    private DiffusersNames(List<Block> blocks) {
        this.blocks = List.copyOf(blocks);
    }

    /** The table for a UNet of this config (SD v1 and sd-tiny share the layout, not the widths). */
    public static DiffusersNames of(UNetConfig c) {
        List<Block> b = new ArrayList<>();
        b.add(new Block("time_embed.0", "time_embedding.linear_1", false));
        b.add(new Block("time_embed.2", "time_embedding.linear_2", false));
        b.add(new Block("input_blocks.0.0", "conv_in", false));
        b.add(new Block("out.0", "conv_norm_out", false));
        b.add(new Block("out.2", "conv_out", false));
        int levels = c.channelMult().length;
        int res = c.numResBlocks();
        int ds = 1;
        int[] rateOfLevel = new int[levels];
        for (int i = 0; i < levels; i++) {
            rateOfLevel[i] = ds;
            for (int j = 0; j < res; j++) {
                int n = 1 + i * (res + 1) + j;
                b.add(new Block("input_blocks." + n + ".0", "down_blocks." + i + ".resnets." + j, true));
                if (c.attentionAt(ds)) {
                    b.add(new Block("input_blocks." + n + ".1", "down_blocks." + i + ".attentions." + j, false));
                }
            }
            if (i < levels - 1) {
                b.add(new Block("input_blocks." + (i + 1) * (res + 1) + ".0.op", "down_blocks." + i + ".downsamplers.0.conv",
                        false));
                ds *= 2;
            }
        }
        b.add(new Block("middle_block.0", "mid_block.resnets.0", true));
        b.add(new Block("middle_block.1", "mid_block.attentions.0", false));
        b.add(new Block("middle_block.2", "mid_block.resnets.1", true));
        for (int i = 0; i < levels; i++) {
            boolean attention = c.attentionAt(rateOfLevel[levels - 1 - i]); // up block i mirrors down level L-1-i
            for (int j = 0; j <= res; j++) {
                int n = i * (res + 1) + j;
                b.add(new Block("output_blocks." + n + ".0", "up_blocks." + i + ".resnets." + j, true));
                if (attention) {
                    b.add(new Block("output_blocks." + n + ".1", "up_blocks." + i + ".attentions." + j, false));
                }
            }
            if (i < levels - 1) {
                int n = i * (res + 1) + res;
                b.add(new Block("output_blocks." + n + "." + (attention ? 2 : 1), "up_blocks." + i + ".upsamplers.0",
                        false));
            }
        }
        return new DiffusersNames(b);
    }

    /** The table for the UNet of these configs. */
    public static DiffusersNames of(ModelConfigs configs) {
        return of(configs.unet());
    }

    /**
     * The diffusers name (with {@code unet.} or {@code text_encoder.}) of a full LDM key or module path,
     * or null when it is not a UNet or text-encoder name this table knows (VAE, schedule buffers).
     */
    public String toDiffusers(String ldm) {
        if (ldm.startsWith(LDM_CLIP)) {
            return TEXT_ENCODER + ldm.substring(LDM_CLIP.length());
        }
        if (!ldm.startsWith(LDM_UNET)) {
            return null;
        }
        String path = ldm.substring(LDM_UNET.length());
        for (Block b : blocks) {
            String rest = remainder(path, b.ldm);
            if (rest != null) {
                return UNET + b.diffusers + (b.resnet ? renameChild(rest, 0, 1) : rest);
            }
        }
        return null;
    }

    /** The full LDM key or module path of a diffusers name (with its component prefix), or null when unknown. */
    public String toLdm(String diffusers) {
        if (diffusers.startsWith(TEXT_ENCODER)) {
            return LDM_CLIP + diffusers.substring(TEXT_ENCODER.length());
        }
        return diffusers.startsWith(UNET) ? unetToLdm(diffusers.substring(UNET.length())) : null;
    }

    /** The full LDM key or module path of a diffusers UNet path without prefix ({@code down_blocks.0.…}), or null. */
    public String unetToLdm(String path) {
        for (Block b : blocks) {
            String rest = remainder(path, b.diffusers);
            if (rest != null) {
                return LDM_UNET + b.ldm + (b.resnet ? renameChild(rest, 1, 0) : rest);
            }
        }
        return null;
    }

    /** The full LDM key or module path of a diffusers text-encoder path without prefix ({@code text_model.…}). */
    public static String textEncoderToLdm(String path) {
        return LDM_CLIP + path;
    }

    /** The LDM ↔ diffusers block pairs (UNet paths without prefixes), for listings and tests. */
    public Map<String, String> unetBlocks() {
        Map<String, String> m = new LinkedHashMap<>();
        blocks.forEach(b -> m.put(b.ldm, b.diffusers));
        return m;
    }

    /** What follows {@code prefix} in {@code path} ("" or ".child…"), or null when the path is not inside it. */
    private static String remainder(String path, String prefix) {
        if (!path.startsWith(prefix)) {
            return null;
        }
        String rest = path.substring(prefix.length());
        return rest.isEmpty() || rest.charAt(0) == '.' ? rest : null;
    }

    /** rest = ".child…" inside a res block, with its child renamed from column {@code from} to {@code to}. */
    private static String renameChild(String rest, int from, int to) {
        for (String[] pair : RESNET_CHILDREN) {
            String tail = remainder(rest.isEmpty() ? "" : rest.substring(1), pair[from]);
            if (tail != null) {
                return "." + pair[to] + tail;
            }
        }
        return rest;
    }
}
