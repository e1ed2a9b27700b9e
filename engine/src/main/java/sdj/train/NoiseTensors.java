package sdj.train;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import sdj.sd.unet.UNetConfig;
import sdj.sd.unet.UNetModel;

/**
 * The UNet tensors whose gradient is exactly zero in exact arithmetic (the sd-tiny-train README's "noise
 * tensors", section E), derived from the network's structure: a GroupNorm with one channel per group subtracts
 * each channel's spatial mean, so a per-channel constant added before it, by additions and position-wise
 * linear maps only, cannot change the output. In float32 their gradient is rounding noise that AdamW's
 * normalisation turns into updates of up to ~lr, so their values after an update are compared within 3·lr.
 *
 * <p>The walk mirrors {@link UNetModel}'s layout (CompVis {@code UNetModel}). A spatially constant per-channel
 * offset entering a layer vanishes when:
 * <ul>
 * <li>a ResBlock: its in_layers GroupNorm has one channel per group and the block's output absorbs it (the skip
 * path is the identity or a 1×1 conv, position-wise);</li>
 * <li>a SpatialTransformer: its GroupNorm has one channel per group and its output absorbs it (residual);</li>
 * <li>the final {@code out.0} GroupNorm has one channel per group;</li>
 * <li>never in a Downsample or Upsample (3×3 convs with zero padding make it vary at the borders), nor at an
 * output block's concatenation with a skip unless the joined channels are one per group.</li>
 * </ul>
 * The offsets come from conv/linear biases ({@code in_layers.2}, {@code out_layers.3}, {@code skip_connection},
 * {@code proj_out}, the last transformer block's {@code ff.net.2}, the resampling convs) and from the timestep
 * projection {@code emb_layers.1} (constant over h, w). A bias feeding a LayerNorm (inside a transformer) is
 * not removed: LayerNorm normalises over channels, not over positions.
 */
public final class NoiseTensors {
    /** CompVis {@code normalization(ch)} = GroupNorm(32, ch) everywhere in the UNet. */
    static final int GROUPS = 32;

    private NoiseTensors() {
    }

    /** The full checkpoint names ({@code model.diffusion_model.…}), sorted. Empty for SD v1 (10 channels per group). */
    public static List<String> of(UNetConfig config) {
        return new Walk(config).noiseTensors();
    }

    private enum Kind { CONV_IN, RES, TRANSFORMER, DOWNSAMPLE, UPSAMPLE }

    /** One layer of the UNet: its kind, checkpoint name, input and output channels. */
    private record Layer(Kind kind, String name, int inChannels, int outChannels) {
    }

    /** Blocks in forward order; which output block consumes which input block's skip. */
    private static final class Walk {
        final List<List<Layer>> input = new ArrayList<>();
        final List<Layer> middle = new ArrayList<>();
        final List<List<Layer>> output = new ArrayList<>();
        final List<Integer> skipConsumer = new ArrayList<>(); // input block i → output block index
        final int transformerDepth;
        final int finalChannels;

        Walk(UNetConfig c) {
            String p = UNetModel.PREFIX + ".";
            int mc = c.modelChannels();
            transformerDepth = c.transformerDepth();
            input.add(List.of(new Layer(Kind.CONV_IN, p + "input_blocks.0.0", c.inChannels(), mc)));
            List<Integer> skipChannels = new ArrayList<>(List.of(mc));
            int ch = mc;
            int ds = 1;
            for (int level = 0; level < c.channelMult().length; level++) {
                for (int r = 0; r < c.numResBlocks(); r++) {
                    String b = p + "input_blocks." + input.size() + ".";
                    int out = c.channelMult()[level] * mc;
                    List<Layer> layers = new ArrayList<>(List.of(new Layer(Kind.RES, b + "0", ch, out)));
                    ch = out;
                    if (c.attentionAt(ds)) {
                        layers.add(new Layer(Kind.TRANSFORMER, b + "1", ch, ch));
                    }
                    input.add(layers);
                    skipChannels.add(ch);
                }
                if (level != c.channelMult().length - 1) {
                    input.add(List.of(new Layer(Kind.DOWNSAMPLE, p + "input_blocks." + input.size() + ".0", ch, ch)));
                    skipChannels.add(ch);
                    ds *= 2;
                }
            }
            middle.add(new Layer(Kind.RES, p + "middle_block.0", ch, ch));
            middle.add(new Layer(Kind.TRANSFORMER, p + "middle_block.1", ch, ch));
            middle.add(new Layer(Kind.RES, p + "middle_block.2", ch, ch));
            input.forEach(b -> skipConsumer.add(-1));
            for (int level = c.channelMult().length - 1; level >= 0; level--) {
                for (int i = 0; i <= c.numResBlocks(); i++) {
                    String b = p + "output_blocks." + output.size() + ".";
                    int skipCh = skipChannels.remove(skipChannels.size() - 1);
                    skipConsumer.set(skipChannels.size(), output.size());
                    int out = mc * c.channelMult()[level];
                    List<Layer> layers = new ArrayList<>(List.of(new Layer(Kind.RES, b + "0", ch + skipCh, out)));
                    ch = out;
                    if (c.attentionAt(ds)) {
                        layers.add(new Layer(Kind.TRANSFORMER, b + "1", ch, ch));
                    }
                    if (level > 0 && i == c.numResBlocks()) {
                        layers.add(new Layer(Kind.UPSAMPLE, b + layers.size(), ch, ch));
                        ds /= 2;
                    }
                    output.add(layers);
                }
            }
            finalChannels = ch;
        }

        List<String> noiseTensors() {
            TreeSet<String> names = new TreeSet<>();
            visit(input, Section.INPUT, names);
            visit(List.of(middle), Section.MIDDLE, names);
            visit(output, Section.OUTPUT, names);
            return List.copyOf(names);
        }

        private void visit(List<List<Layer>> blocks, Section section, TreeSet<String> names) {
            for (int b = 0; b < blocks.size(); b++) {
                List<Layer> layers = blocks.get(b);
                for (int l = 0; l < layers.size(); l++) {
                    Layer layer = layers.get(l);
                    boolean outputAbsorbed = absorbedAfter(section, b, l);
                    switch (layer.kind()) {
                        case RES -> {
                            if (onePerGroup(layer.outChannels())) { // in_layers + emb_layers meet out_layers.0
                                names.add(layer.name() + ".in_layers.2.bias");
                                names.add(layer.name() + ".emb_layers.1.weight");
                                names.add(layer.name() + ".emb_layers.1.bias");
                            }
                            if (outputAbsorbed) {
                                names.add(layer.name() + ".out_layers.3.bias");
                                if (layer.inChannels() != layer.outChannels()) { // a 1×1 conv, else the identity
                                    names.add(layer.name() + ".skip_connection.bias");
                                }
                            }
                        }
                        case TRANSFORMER -> {
                            if (outputAbsorbed) { // ff.net.2 → proj_out (1×1) → residual add
                                names.add(layer.name() + ".proj_out.bias");
                                names.add(layer.name() + ".transformer_blocks." + (transformerDepth - 1) + ".ff.net.2.bias");
                            }
                        }
                        case CONV_IN -> addIf(outputAbsorbed, names, layer.name() + ".bias");
                        case DOWNSAMPLE -> addIf(outputAbsorbed, names, layer.name() + ".op.bias");
                        case UPSAMPLE -> addIf(outputAbsorbed, names, layer.name() + ".conv.bias");
                        default -> throw new IllegalStateException(layer.kind().toString());
                    }
                }
            }
        }

        private static void addIf(boolean condition, TreeSet<String> names, String name) {
            if (condition) {
                names.add(name);
            }
        }

        private enum Section { INPUT, MIDDLE, OUTPUT }

        /** Whether a per-channel constant added to the output of layer l of block b vanishes downstream. */
        private boolean absorbedAfter(Section section, int b, int l) {
            List<Layer> block = switch (section) {
                case INPUT -> input.get(b);
                case MIDDLE -> middle;
                case OUTPUT -> output.get(b);
            };
            if (l + 1 < block.size()) {
                return absorbedBy(block.get(l + 1), section, b, l + 1);
            }
            return switch (section) {
                case INPUT -> (b + 1 < input.size() ? absorbedBy(input.get(b + 1).get(0), section, b + 1, 0)
                        : absorbedBy(middle.get(0), Section.MIDDLE, 0, 0))
                        && absorbedBy(output.get(skipConsumer.get(b)).get(0), Section.OUTPUT, skipConsumer.get(b), 0);
                case MIDDLE -> absorbedBy(output.get(0).get(0), Section.OUTPUT, 0, 0);
                case OUTPUT -> b + 1 < output.size() ? absorbedBy(output.get(b + 1).get(0), section, b + 1, 0)
                        : onePerGroup(finalChannels); // out.0 GroupNorm
            };
        }

        /** Whether a per-channel constant entering {@code layer} (layer l of block b) vanishes. */
        private boolean absorbedBy(Layer layer, Section section, int b, int l) {
            return switch (layer.kind()) {
                // the GroupNorm sees all input channels (an output block's skip concatenation included)
                case RES, TRANSFORMER -> onePerGroup(layer.inChannels()) && absorbedAfter(section, b, l);
                case CONV_IN, DOWNSAMPLE, UPSAMPLE -> false;
            };
        }

        private static boolean onePerGroup(int channels) {
            return channels == GROUPS;
        }
    }
}
