package sdj.bench.profile;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import sdj.io.Json;
import sdj.nn.Layer;
import sdj.nn.ParameterStore;
import sdj.ops.F;
import sdj.sd.ModelConfigFiles;
import sdj.sd.unet.UNetConfig;
import sdj.sd.unet.UNetModel;
import sdj.tensor.ActivationArena;
import sdj.tensor.Autograd;
import sdj.tensor.Tensor;

/**
 * The op profile on the tiny UNet (../models/sd-tiny.json, random weights, 16² latents, batch 2): its
 * FLOPs against a count made here from the layers' weight shapes, its layer names against the
 * checkpoint's module names, shares that add up, and results unchanged by profiling. No timings.
 */
class OpProfileTest {
    private static final int BATCH = 2;
    private static final int LATENT = 16;
    private static final int TOKENS = 77;
    private static final String P = UNetModel.PREFIX + ".";

    private static UNetConfig config;
    private static ParameterStore store;
    private static UNetModel unet;
    private static Tensor x;
    private static Tensor context;
    private static final float[] T = {10f, 981f};

    @BeforeAll
    static void tinyUnet() throws Exception {
        config = ModelConfigFiles.read(Path.of("../models/sd-tiny.json")).unet();
        store = ParameterStore.random(3);
        unet = new UNetModel(store.root().sub(UNetModel.PREFIX), config);
        x = Tensor.of(random(BATCH * 4 * LATENT * LATENT, 1), BATCH, 4, LATENT, LATENT);
        context = Tensor.of(random(BATCH * TOKENS * 64, 2), BATCH, TOKENS, 64);
        try (var g = Autograd.noGrad()) {
            unet.forward(x, T, context); // creates the random store's weights
        }
    }

    @Test
    void forwardFlopsEqualTheCountFromLayerShapesAndOutputsAreUnchanged() {
        float[] plain;
        try (var g = Autograd.noGrad()) {
            plain = unet.forward(x, T, context).toFloatArray();
        }
        OpProfile profile = new OpProfile();
        float[] profiled = profile.measure(() -> {
            try (var g = Autograd.noGrad()) {
                return unet.forward(x, T, context).toFloatArray();
            }
        });
        assertArrayEquals(plain, profiled, 0f, "profiling must not change a single bit of the output");

        double products = profile.byType().stream().filter(r -> OpTypes.PRODUCTS.contains(r.type()))
                .mapToDouble(OpProfile.Row::flops).sum();
        assertEquals(handCountedFlops(), products, 0.5, "conv + linear + attention FLOPs");
        assertEquals(handCountedFlops(), sdj.bench.UNetFlops.count(config, LATENT, BATCH), 0.5,
                "the bench's own UNet FLOP counter agrees");

        // one layer of each kind, by its checkpoint module name
        String block = P + "input_blocks.1.1.transformer_blocks.0.";
        assertEquals(2.0 * BATCH * LATENT * LATENT * TOKENS * (32 + 32), flops(profile, block + "attn2", "attention"));
        assertEquals(2.0 * BATCH * LATENT * LATENT * LATENT * LATENT * (32 + 32),
                flops(profile, block + "attn1", "attention"));
        assertEquals(2.0 * BATCH * TOKENS * 64 * 32, flops(profile, block + "attn2.to_k", "linear"));
        assertEquals(2.0 * BATCH * 16 * 16 * 32 * 32 * 9, flops(profile, P + "input_blocks.1.0.in_layers.2", "conv"));
        assertEquals(2.0 * BATCH * 8 * 8 * 32 * 32 * 9, flops(profile, P + "input_blocks.3.0.op", "conv"));
        assertEquals((double) BATCH * 32 * 16 * 16, flops(profile, P + "input_blocks.1.0.in_layers.0", "group norm+SiLU"));
        // GEGLU's value·gelu(gate) runs in the transformer block, between its ff projections
        assertEquals((double) BATCH * LATENT * LATENT * 128, flops(profile, P + "input_blocks.1.1.transformer_blocks.0",
                "GEGLU"));
    }

    @Test
    void layersAreCheckpointModuleNamesAndSharesAddUp() {
        OpProfile profile = new OpProfile();
        profile.measure(() -> {
            try (var g = Autograd.noGrad()) {
                unet.forward(x, T, context);
            }
        });
        for (OpProfile.Row r : profile.byLayer()) {
            String m = r.module();
            assertTrue(m != null, "every op of the UNet runs inside a named module, got none for " + r.type());
            assertTrue(store.parameters().keySet().stream().anyMatch(k -> k.startsWith(m + ".")),
                    m + " is not a module of the checkpoint");
        }
        double shares = profile.byType().stream().mapToDouble(OpProfile.Row::seconds).sum() / profile.wallSeconds();
        assertEquals(1.0, shares, 1e-9);

        @SuppressWarnings("unchecked")
        List<Map<String, Object>> json = (List<Map<String, Object>>) Json.parseObject(
                new ProfileReport(profile, 100).json(Map.of("bench", "test"))).get("by_type");
        assertEquals(1.0, json.stream().mapToDouble(m -> ((Number) m.get("share")).doubleValue()).sum(), 1e-9);
        String table = new ProfileReport(profile, 100).table(5);
        assertTrue(table.contains("| conv |") && table.contains("| attention |") && table.contains("| outside ops |"),
                table);
    }

    @Test
    void eachOpIsChargedTheHeapItAllocatedAtLeastItsOutputArray() {
        OpProfile profile = new OpProfile();
        long before = OpProfile.allocatedBytes();
        // with the arena off every op output is a fresh array (on, a warm pool hands back earlier ones)
        ActivationArena.Mode previous = ActivationArena.use(ActivationArena.Mode.OFF);
        try {
            profile.measure(() -> {
                try (var g = Autograd.noGrad()) {
                    unet.forward(x, T, context);
                }
            });
        } finally {
            ActivationArena.use(previous);
        }
        long total = OpProfile.allocatedBytes() - before;
        // a conv's output is a fresh float[] of batch·32·16·16 values; a linear's of batch·77·32 (to_k)
        OpProfile.Cell conv = profile.cells().get(new OpProfile.Key("conv", P + "input_blocks.1.0.in_layers.2"));
        assertTrue(conv.allocatedBytes() >= 4L * BATCH * 32 * 16 * 16, "conv allocated " + conv.allocatedBytes());
        String toK = P + "input_blocks.1.1.transformer_blocks.0.attn2.to_k";
        OpProfile.Cell linear = profile.cells().get(new OpProfile.Key("linear", toK));
        assertTrue(linear.allocatedBytes() >= 4L * BATCH * TOKENS * 32, "linear allocated " + linear.allocatedBytes());
        long charged = profile.byType().stream().mapToLong(OpProfile.Row::allocatedBytes).sum();
        assertTrue(charged <= total, "ops charged " + charged + " bytes of the " + total + " the forward allocated");
    }

    @Test
    void backwardOpsAreChargedToTheirOpAndLayer() {
        store.parameters().values().forEach(p -> p.requiresGrad(true));
        try {
            Tensor target = Tensor.of(random(BATCH * 4 * LATENT * LATENT, 4), BATCH, 4, LATENT, LATENT);
            OpProfile profile = new OpProfile();
            profile.measure(() -> F.mseLoss(unet.forward(x, T, context), target).backward());
            String conv = P + "input_blocks.1.0.in_layers.2";
            double forward = flops(profile, conv, "conv");
            // data and weight gradient, each a product as large as the forward, plus the bias sums
            assertEquals(2 * forward + BATCH * 32 * 16 * 16, flops(profile, conv, "conv backward"));
            // attn2.to_q: its input feeds nothing else, so no gradient sums join its backward
            String toQ = P + "input_blocks.1.1.transformer_blocks.0.attn2.to_q";
            assertEquals(2 * flops(profile, toQ, "linear"), flops(profile, toQ, "linear backward"));
            String attn = P + "input_blocks.1.1.transformer_blocks.0.attn1";
            assertEquals(2.5 * flops(profile, attn, "attention"), flops(profile, attn, "attention backward"));
        } finally {
            store.parameters().values().forEach(p -> {
                p.requiresGrad(false);
                p.zeroGrad();
            });
        }
    }

    /** Conv, linear and attention FLOPs from the store's weight shapes and each layer's output size. */
    private static double handCountedFlops() {
        double f = 0;
        for (Layer layer : store.layers().values()) {
            int[] w = layer.weight().tensor().shape();
            String name = layer.name().substring(P.length());
            if (w.length == 4) {
                int s = outputSize(name);
                f += 2.0 * BATCH * w[0] * w[1] * w[2] * w[3] * s * s;
            } else {
                int s = outputSize(name);
                boolean perSample = name.startsWith("time_embed") || name.contains("emb_layers");
                boolean onContext = name.contains("attn2.to_k") || name.contains("attn2.to_v");
                int rows = perSample ? 1 : onContext ? TOKENS : s * s;
                f += 2.0 * BATCH * rows * w[0] * w[1];
                if (name.endsWith("attn1.to_q")) {
                    f += 2.0 * BATCH * s * s * s * s * 2 * w[0]; // scores and weighted sum over the image tokens
                } else if (name.endsWith("attn2.to_q")) {
                    f += 2.0 * BATCH * s * s * TOKENS * 2 * w[0]; // the same over the 77 context tokens
                }
            }
        }
        return f;
    }

    /** The side of a layer's output for 16² latents, by where it sits in the tiny UNet (4 levels). */
    private static int outputSize(String name) {
        if (name.startsWith("time_embed") || name.startsWith("out.")) {
            return LATENT;
        }
        if (name.startsWith("middle_block")) {
            return 2;
        }
        String[] parts = name.split("\\.");
        int block = Integer.parseInt(parts[1]);
        if (parts[0].equals("input_blocks")) {
            return new int[] {16, 16, 16, 8, 8, 8, 4, 4, 4, 2, 2, 2}[block];
        }
        // output blocks: 2, 5 and 8 end with the upsample whose conv works at the doubled size
        int size = new int[] {2, 2, 2, 4, 4, 4, 8, 8, 8, 16, 16, 16}[block];
        return name.endsWith(".conv") ? 2 * size : size;
    }

    private static double flops(OpProfile profile, String module, String type) {
        OpProfile.Cell c = profile.cells().get(new OpProfile.Key(type, module));
        assertFalse(c == null, "no " + type + " ops in " + module + "; cells: " + profile.cells().keySet());
        return c.flops();
    }

    private static float[] random(int n, long seed) {
        Random r = new Random(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) r.nextGaussian();
        }
        return a;
    }
}
