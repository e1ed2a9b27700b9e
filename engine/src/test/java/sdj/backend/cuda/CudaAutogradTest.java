package sdj.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static sdj.backend.cuda.CudaTestSupport.assertClose;
import static sdj.backend.cuda.CudaTestSupport.random;
import static sdj.backend.cuda.CudaTestSupport.rounded;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import sdj.nn.Heads;
import sdj.ops.Attention;
import sdj.ops.Conv;
import sdj.ops.Embedding;
import sdj.ops.F;
import sdj.ops.Reduce;
import sdj.ops.Resample;
import sdj.ops.Unary;
import sdj.tensor.DType;
import sdj.tensor.Device;
import sdj.tensor.Tensor;

/**
 * GPU autograd against the CPU tape: each test builds the same graph twice, once from host leaves and
 * once from their device twins, runs backward on both and compares every leaf gradient. The GPU grads
 * must stay on the GPU in their leaf's dtype. Shapes are small (a few thousand elements at most) so the
 * tests also suit a slow emulated device. Skipped with the probe's reason without a GPU.
 *
 * <p>Tolerance (measure of {@link CudaTestSupport#assertClose}: max |gpu − cpu| / max |cpu| per tensor):
 * {@value #TOL} for one fp32 op (the only differences are summation order and the GPU's expf/rsqrtf),
 * {@value #CHAIN_TOL} for the composite block, where those differences pass through a dozen ops;
 * fp16 parameters are held to {@link CudaTestSupport#tolerance}(F16).
 */
class CudaAutogradTest {
    static final float TOL = 1e-5f;
    static final float CHAIN_TOL = 3e-5f;

    @BeforeEach
    void gpu() {
        CudaTestSupport.opsOrSkip();
    }

    /** A graph builder run once per device over that device's leaves. */
    @FunctionalInterface
    interface Graph {
        Tensor build(List<Tensor> leaves);
    }

    /** A host leaf (values rounded to dtype, stored fp32) and its device twin stored as dtype. */
    private record Leaf(Tensor cpu, Tensor gpu) {
        static Leaf of(float[] values, DType dtype, int... shape) {
            Tensor host = Tensor.of(rounded(values, dtype), shape);
            return new Leaf(host.requiresGrad(true), host.to(Device.CUDA, dtype).requiresGrad(true));
        }
    }

    private static Leaf leaf(long seed, int... shape) {
        return leaf(seed, DType.F32, shape);
    }

    private static Leaf leaf(long seed, DType dtype, int... shape) {
        return Leaf.of(random(seed, numel(shape), 1f), dtype, shape);
    }

    /** Values in [lo, lo + 1]: a divisor kept away from zero. */
    private static Leaf positiveLeaf(long seed, float lo, int... shape) {
        return positiveLeaf(seed, lo, DType.F32, shape);
    }

    private static Leaf positiveLeaf(long seed, float lo, DType dtype, int... shape) {
        float[] v = random(seed, numel(shape), 0.5f);
        for (int i = 0; i < v.length; i++) {
            v[i] += lo + 0.5f;
        }
        return Leaf.of(v, dtype, shape);
    }

    private static int numel(int... shape) {
        int n = 1;
        for (int s : shape) {
            n *= s;
        }
        return n;
    }

    /**
     * Builds the graph on both devices, seeds backward with one random output gradient (uploaded by
     * Tensor.backward for the GPU output) and compares the gradients of every leaf.
     */
    private static void assertGradsMatch(String what, float tol, Graph graph, Leaf... leaves) {
        List<Tensor> cpu = new ArrayList<>();
        List<Tensor> gpu = new ArrayList<>();
        for (Leaf l : leaves) {
            cpu.add(l.cpu());
            gpu.add(l.gpu());
        }
        Tensor yc = graph.build(cpu);
        Tensor yg = graph.build(gpu);
        assertTrue(yg.isCuda(), what + ": the output stays on the GPU");
        assertArrayEquals(yc.shape(), yg.shape(), what + " output shape");
        Tensor seed = Tensor.of(random(what.hashCode(), (int) yc.numel(), 1f), yc.shape());
        yc.backward(seed);
        yg.backward(seed);
        for (int i = 0; i < leaves.length; i++) {
            assertGradMatches(what + " leaf " + i, leaves[i], tol);
        }
    }

    private static void assertGradMatches(String what, Leaf l, float tol) {
        Tensor gc = l.cpu().grad();
        Tensor gg = l.gpu().grad();
        assertTrue(gc != null && gg != null, what + ": both devices have a gradient");
        assertTrue(gg.isCuda(), what + ": the gradient lives on the GPU");
        assertEquals(l.gpu().dtype(), gg.dtype(), what + ": the gradient has the leaf's dtype");
        assertArrayEquals(gc.shape(), gg.shape(), what + " gradient shape");
        assertClose(gc.toFloatArray(), gg.to(Device.CPU, DType.F32).toFloatArray(), tol, what);
    }

    // ------------------------------------------------------------------ elementwise

    @Test
    void binaryOpsSumBroadcastGradientsBackToEachShape() {
        Leaf a = leaf(1, 2, 4, 3, 3);
        Leaf perSample = leaf(2, 2, 4, 1, 1); // a ResBlock's time embedding
        Leaf bias = leaf(3, 3);
        Leaf divisor = positiveLeaf(4, 2f, 1, 4, 1, 1);
        assertGradsMatch("add/sub/mul/div", TOL, t -> t.get(0).add(t.get(1)).mul(t.get(2)).sub(t.get(1))
                .div(t.get(3)).mul(t.get(0)), a, perSample, bias, divisor);
    }

    @Test
    void scalarOpsAndActivations() {
        Leaf x = leaf(5, 2, 3, 4, 4);
        assertGradsMatch("affine", TOL, t -> t.get(0).mul(0.5f).add(2f).neg(), x);
        List<Function<Tensor, Tensor>> acts = List.of(Unary::silu, Unary::gelu, Unary::geluTanh, Unary::quickGelu,
                Unary::sigmoid, Unary::tanh, Unary::square);
        for (int i = 0; i < acts.size(); i++) {
            Function<Tensor, Tensor> f = acts.get(i);
            assertGradsMatch("activation " + i, TOL, t -> f.apply(t.get(0)), leaf(10 + i, 2, 3, 4, 4));
        }
    }

    @Test
    void mathFunctionsOnTheTape() {
        List<Function<Tensor, Tensor>> fs = List.of(Unary::exp, Unary::log, Unary::sqrt, Unary::rsqrt,
                x -> Unary.pow(x, 2.5f), x -> Unary.pow(x, -0.5f));
        for (int i = 0; i < fs.size(); i++) {
            Function<Tensor, Tensor> f = fs.get(i);
            assertGradsMatch("math function " + i, TOL, t -> f.apply(t.get(0)), positiveLeaf(140 + i, 0.25f, 2, 3, 4, 4));
        }
        assertGradsMatch("pow 3 of negative bases", TOL, t -> Unary.pow(t.get(0), 3f), leaf(150, 2, 3, 4, 4));
        // a chain where each op's backward feeds the next: rsqrt(exp(x) + 1)·log(x)
        assertGradsMatch("exp, rsqrt, log chained", TOL,
                t -> Unary.rsqrt(Unary.exp(t.get(0)).add(1f)).mul(Unary.log(t.get(0))), positiveLeaf(151, 0.25f, 2, 3, 4));
        float tol = CudaTestSupport.tolerance(DType.F16);
        assertGradsMatch("the chain in fp16", tol, t -> Unary.rsqrt(Unary.exp(t.get(0)).add(1f)).mul(Unary.log(t.get(0))),
                positiveLeaf(152, 0.25f, DType.F16, 2, 3, 4));
    }

    @Test
    void gegluOfTheFeedForward() {
        assertGradsMatch("geglu", TOL, t -> F.geglu(t.get(0)), leaf(20, 2, 5, 2 * 8));
    }

    @Test
    void dropoutAppliesTheSameMaskOnBothDevices() {
        assertGradsMatch("dropout", TOL, t -> F.dropout(t.get(0), 0.3f, new SplittableRandom(7)), leaf(21, 2, 4, 5));
    }

    // ------------------------------------------------------------------ GEMM, convolution

    @Test
    void matmulWithBatchesSharedOperandsAndTransposedViews() {
        Leaf a = leaf(30, 2, 5, 8);
        Leaf b = leaf(31, 2, 8, 6);
        Leaf w = leaf(32, 8, 6);
        Leaf wt = leaf(33, 6, 8);
        Leaf a4 = leaf(34, 2, 1, 5, 8);
        Leaf b3 = leaf(35, 3, 8, 6);
        Leaf m = leaf(36, 5, 8);
        assertGradsMatch("batched matmul", TOL, t -> t.get(0).matmul(t.get(1)), a, b);
        assertGradsMatch("matmul by a shared 2-D b", TOL, t -> t.get(0).matmul(t.get(1)), a, w);
        assertGradsMatch("matmul by wᵀ (a transposed view)", TOL, t -> t.get(0).matmul(t.get(1).transpose(0, 1)), a, wt);
        assertGradsMatch("matmul with broadcast batch dims", TOL, t -> t.get(0).matmul(t.get(1)), a4, b3);
        assertGradsMatch("2-D a times batched b", TOL, t -> t.get(0).matmul(t.get(1)), m, b3);
    }

    @Test
    void linearWithAndWithoutBias() {
        Leaf x = leaf(40, 2, 7, 16);
        Leaf w = leaf(41, 24, 16);
        Leaf b = leaf(42, 24);
        assertGradsMatch("linear", TOL, t -> F.linear(t.get(0), t.get(1), t.get(2)), x, w, b);
        Leaf x2 = leaf(43, 7, 16);
        Leaf w2 = leaf(44, 24, 16);
        assertGradsMatch("linear, 2-D x, no bias", TOL, t -> F.linear(t.get(0), t.get(1), null), x2, w2);
    }

    @Test
    void conv2dIncludingStrideUnevenPaddingAndPointwise() {
        Leaf x = leaf(50, 2, 4, 6, 6);
        Leaf w = leaf(51, 6, 4, 3, 3);
        Leaf b = leaf(52, 6);
        assertGradsMatch("conv 3x3 pad 1", TOL, t -> F.conv2d(t.get(0), t.get(1), t.get(2), 1, 1), x, w, b);
        Leaf x2 = leaf(53, 2, 4, 7, 7);
        Leaf w2 = leaf(54, 6, 4, 3, 3);
        Leaf b2 = leaf(55, 6);
        assertGradsMatch("conv stride 2 pad (0, 1, 0, 1)", TOL,
                t -> Conv.conv2d(t.get(0), t.get(1), t.get(2), 2, 0, 1, 0, 1), x2, w2, b2);
        Leaf x3 = leaf(56, 2, 4, 5, 5);
        Leaf w3 = leaf(57, 6, 4, 1, 1);
        assertGradsMatch("conv 1x1 no bias", TOL, t -> F.conv2d(t.get(0), t.get(1), null, 1, 0), x3, w3);
    }

    // ------------------------------------------------------------------ normalisation, softmax, reductions

    @Test
    void groupNormAndLayerNorm() {
        Leaf x = leaf(60, 2, 8, 4, 4);
        Leaf gw = leaf(61, 8);
        Leaf gb = leaf(62, 8);
        assertGradsMatch("group_norm", TOL, t -> F.groupNorm(t.get(0), 4, t.get(1), t.get(2), 1e-5f), x, gw, gb);
        // fused on the GPU, silu(group_norm) on the CPU
        assertGradsMatch("group_norm_silu", TOL, t -> F.groupNormSilu(t.get(0), 4, t.get(1), t.get(2), 1e-5f), x, gw, gb);
        Leaf tokens = leaf(63, 2, 5, 16);
        Leaf lw = leaf(64, 16);
        Leaf lb = leaf(65, 16);
        assertGradsMatch("layer_norm", TOL, t -> F.layerNorm(t.get(0), t.get(1), t.get(2), 1e-5f), tokens, lw, lb);
    }

    @Test
    void softmaxOverTheLastDim() {
        assertGradsMatch("softmax", TOL, t -> F.softmax(t.get(0)), leaf(70, 2, 3, 7));
    }

    @Test
    void sumsAndMeansOverDims() {
        Leaf x = leaf(71, 2, 3, 4, 5);
        assertGradsMatch("sum over leading and trailing dims", TOL, t -> t.get(0).sum(0, true).sum(3, false), x);
        assertGradsMatch("sum over a middle dim", TOL, t -> Reduce.sum(t.get(0), new int[] {1, 3}, false), leaf(72, 2, 3, 4, 5));
        assertGradsMatch("mean over a dim", TOL, t -> t.get(0).mean(2, true), leaf(73, 2, 3, 4, 5));
        assertGradsMatch("mean of all", TOL, t -> t.get(0).mean().mul(3f), leaf(74, 2, 3, 4, 5));
    }

    // ------------------------------------------------------------------ attention

    @Test
    void fusedAttentionOnHeadsAndOn4dTensors() {
        Leaf q = leaf(80, 2, 9, 4 * 8);
        Leaf k = leaf(81, 2, 11, 4 * 8);
        Leaf v = leaf(82, 2, 11, 4 * 8);
        assertGradsMatch("cross-attention over [B, N, H·d]", TOL, t -> Heads.attend(t.get(0), t.get(1), t.get(2), 4, false),
                q, k, v);
        // q = k = v: one leaf read three times, so its three gradients are summed on the device
        assertGradsMatch("causal self-attention", TOL, t -> Heads.attend(t.get(0), t.get(0), t.get(0), 4, true),
                leaf(83, 2, 9, 4 * 8));
        Leaf q4 = leaf(84, 1, 2, 9, 16);
        Leaf k4 = leaf(85, 1, 2, 11, 16);
        Leaf v4 = leaf(86, 1, 2, 11, 16);
        assertGradsMatch("sdpa [B, H, N, d]", TOL, t -> Attention.sdpa(t.get(0), t.get(1), t.get(2), false), q4, k4, v4);
    }

    @Test
    void unfusedAttentionForWideHeadsAndNarrowValues() {
        Leaf wide = leaf(87, 1, 6, 264); // one head wider than the fused kernel's 256, as in the VAE
        assertGradsMatch("single wide head", TOL, t -> Heads.attend(t.get(0), t.get(0), t.get(0), 1, false), wide);
        Leaf q = leaf(88, 1, 2, 9, 16);
        Leaf k = leaf(89, 1, 2, 11, 16);
        Leaf v = leaf(90, 1, 2, 11, 8); // dv != d
        assertGradsMatch("sdpa with dv != d", TOL, t -> Attention.sdpa(t.get(0), t.get(1), t.get(2), false), q, k, v);
    }

    // ------------------------------------------------------------------ lookup, resampling, layout

    @Test
    void embeddingScatterAddsRepeatedIds() {
        Tensor ids = Tensor.ofLongs(new long[] {3, 0, 7, 7, 1, 3, 3, 9, 0, 2}, 2, 5);
        Tensor deviceIds = ids.to(Device.CUDA);
        Leaf w = leaf(100, 10, 6);
        Tensor seed = Tensor.of(random(101, 60, 1f), 2, 5, 6);
        Embedding.embedding(ids, w.cpu()).backward(seed);
        Embedding.embedding(deviceIds, w.gpu()).backward(seed);
        assertGradMatches("embedding", w, TOL);
    }

    @Test
    void upsampleCatNarrowPermuteAndReshape() {
        assertGradsMatch("upsample", TOL, t -> Resample.upsampleNearest2x(t.get(0)), leaf(110, 2, 3, 4, 4));
        Leaf a = leaf(111, 2, 3, 5);
        Leaf b = leaf(112, 2, 4, 5);
        assertGradsMatch("cat of a narrowed view, permuted and reshaped", TOL,
                t -> F.cat(List.of(t.get(0), t.get(1).narrow(1, 1, 2)), 1).permute(0, 2, 1).reshape(2, 25), a, b);
    }

    // ------------------------------------------------------------------ the tape itself

    @Test
    void repeatedBackwardAccumulatesIntoGradAndZeroGradClearsIt() {
        Leaf x = leaf(120, 3, 4);
        Leaf w = leaf(121, 5, 4);
        for (int pass = 0; pass < 2; pass++) {
            // scalar losses: backward() seeds with ones on the loss's own device
            F.linear(x.cpu(), w.cpu(), null).sum().backward();
            F.linear(x.gpu(), w.gpu(), null).sum().backward();
        }
        assertGradMatches("x after two passes", x, TOL);
        assertGradMatches("w after two passes", w, TOL);
        x.gpu().zeroGrad();
        assertNull(x.gpu().grad());
        Unary.silu(x.gpu()).mean().backward();
        Tensor once = x.cpu().detach().requiresGrad(true);
        Unary.silu(once).mean().backward();
        assertClose(once.grad().toFloatArray(), x.gpu().grad().cpu().toFloatArray(), TOL, "grad after zeroGrad");
    }

    @Test
    void fp16ParametersGetFp16GradientsFromFp32Accumulation() {
        Leaf x = leaf(130, DType.F32, 2, 8, 4, 4);
        Leaf gw = leaf(131, DType.F16, 8);
        Leaf gb = leaf(132, DType.F16, 8);
        Leaf lw = leaf(133, DType.F16, 6, 8 * 16);
        Leaf table = leaf(134, DType.F16, 10, 6);
        Tensor ids = Tensor.ofLongs(new long[] {1, 4, 4}, 1, 3);
        Graph g = t -> {
            Tensor h = F.groupNorm(t.get(0), 4, t.get(1), t.get(2), 1e-5f).reshape(2, 8 * 16);
            Tensor y = F.linear(h, t.get(3), null); // [2, 6], computed in the weight's fp16
            Tensor e = Embedding.embedding(t.get(0).isCuda() ? ids.to(Device.CUDA) : ids, t.get(4)); // [1, 3, 6]
            return y.unsqueeze(1).add(e); // [2, 3, 6]
        };
        List<Tensor> cpu = List.of(x.cpu(), gw.cpu(), gb.cpu(), lw.cpu(), table.cpu());
        List<Tensor> gpu = List.of(x.gpu(), gw.gpu(), gb.gpu(), lw.gpu(), table.gpu());
        Tensor seed = Tensor.of(random(135, 36, 1f), 2, 3, 6);
        g.build(cpu).backward(seed);
        g.build(gpu).backward(seed);
        float tol = CudaTestSupport.tolerance(DType.F16);
        assertGradMatches("x (fp32 input of fp16 ops)", x, tol);
        for (Leaf p : List.of(gw, gb, lw, table)) {
            assertEquals(DType.F16, p.gpu().grad().dtype());
            assertGradMatches("fp16 parameter", p, tol);
        }
    }

    // ------------------------------------------------------------------ a composite block

    /**
     * A tiny SD block: ResBlock (GroupNorm, SiLU, conv, time embedding, skip) then a transformer
     * layer (LayerNorm, q/k/v, multi-head attention, output projection, GEGLU feed-forward), MSE loss.
     */
    private static Tensor block(Map<String, Tensor> p, Tensor x, Tensor emb, Tensor target) {
        Tensor h = F.conv2d(F.silu(F.groupNorm(x, 4, p.get("gn1.w"), p.get("gn1.b"), 1e-5f)), p.get("conv1.w"),
                p.get("conv1.b"), 1, 1);
        Tensor e = F.linear(F.silu(emb), p.get("emb.w"), p.get("emb.b"));
        h = h.add(e.unsqueeze(-1).unsqueeze(-1));
        h = F.conv2d(F.groupNormSilu(h, 4, p.get("gn2.w"), p.get("gn2.b"), 1e-5f), p.get("conv2.w"),
                p.get("conv2.b"), 1, 1);
        h = x.add(h);
        Tensor tokens = h.reshape(2, 8, 36).transpose(1, 2); // [B, HW, C]
        Tensor n = F.layerNorm(tokens, p.get("ln.w"), p.get("ln.b"), 1e-5f);
        Tensor a = Heads.attend(F.linear(n, p.get("q.w"), null), F.linear(n, p.get("k.w"), null),
                F.linear(n, p.get("v.w"), null), 2, false);
        tokens = tokens.add(F.linear(a, p.get("out.w"), p.get("out.b")));
        tokens = tokens.add(F.linear(F.geglu(F.linear(tokens, p.get("ff1.w"), p.get("ff1.b"))), p.get("ff2.w"),
                p.get("ff2.b")));
        return F.mseLoss(tokens, target);
    }

    @Test
    void aTinyResBlockAndTransformerLayerGiveTheCpuGradients() {
        Map<String, int[]> shapes = new LinkedHashMap<>();
        shapes.put("gn1.w", new int[] {8});
        shapes.put("gn1.b", new int[] {8});
        shapes.put("conv1.w", new int[] {8, 8, 3, 3});
        shapes.put("conv1.b", new int[] {8});
        shapes.put("emb.w", new int[] {8, 12});
        shapes.put("emb.b", new int[] {8});
        shapes.put("gn2.w", new int[] {8});
        shapes.put("gn2.b", new int[] {8});
        shapes.put("conv2.w", new int[] {8, 8, 3, 3});
        shapes.put("conv2.b", new int[] {8});
        shapes.put("ln.w", new int[] {8});
        shapes.put("ln.b", new int[] {8});
        for (String s : List.of("q", "k", "v", "out")) {
            shapes.put(s + ".w", new int[] {8, 8});
        }
        shapes.put("out.b", new int[] {8});
        shapes.put("ff1.w", new int[] {32, 8});
        shapes.put("ff1.b", new int[] {32});
        shapes.put("ff2.w", new int[] {8, 16});
        shapes.put("ff2.b", new int[] {8});
        Map<String, Leaf> params = new LinkedHashMap<>();
        long seed = 200;
        for (var entry : shapes.entrySet()) {
            params.put(entry.getKey(), Leaf.of(random(seed++, numel(entry.getValue()), 0.3f), DType.F32, entry.getValue()));
        }
        Leaf x = leaf(300, 2, 8, 6, 6);
        Leaf emb = leaf(301, 2, 12);
        Tensor target = Tensor.of(random(302, 2 * 36 * 8, 1f), 2, 36, 8);
        Map<String, Tensor> cpu = new LinkedHashMap<>();
        Map<String, Tensor> gpu = new LinkedHashMap<>();
        params.forEach((k, l) -> {
            cpu.put(k, l.cpu());
            gpu.put(k, l.gpu());
        });
        Tensor lc = block(cpu, x.cpu(), emb.cpu(), target);
        Tensor lg = block(gpu, x.gpu(), emb.gpu(), target.to(Device.CUDA));
        assertTrue(lg.isCuda());
        assertClose(lc.toFloatArray(), lg.cpu().toFloatArray(), CHAIN_TOL, "loss");
        lc.backward();
        lg.backward();
        assertGradMatches("x", x, CHAIN_TOL);
        assertGradMatches("emb", emb, CHAIN_TOL);
        params.forEach((k, l) -> assertGradMatches(k, l, CHAIN_TOL));
    }
}
