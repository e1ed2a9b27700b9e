package sdj.sd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import sdj.io.TestData;
import sdj.nn.ParameterStore;
import sdj.ops.F;
import sdj.ops.GradCheck.Rand;
import sdj.sd.clip.ClipTokenizer;
import sdj.sd.pipeline.GenerationRequest;
import sdj.sd.pipeline.StableDiffusion;
import sdj.sd.unet.UNetConfig;
import sdj.sd.unet.UNetModel;
import sdj.sd.vae.AutoencoderKL;
import sdj.sd.vae.VaeConfig;
import sdj.tensor.ActivationArena;
import sdj.tensor.ActivationArena.Mode;
import sdj.tensor.Autograd;
import sdj.tensor.Tensor;

/**
 * The activation arena changes no bit on sd-tiny: UNet forwards and VAE decode/encode (also with a warm pool),
 * txt2img (CLIP, UNet steps, VAE decode) and a training step's gradients, arena off against check mode
 * (recycling that fills each released array with NaN, so a reader of a recycled buffer changes the result).
 */
class ActivationArenaParityTest {
    private Mode before;

    @BeforeEach
    void remember() {
        before = ActivationArena.mode();
    }

    @AfterEach
    void restore() {
        ActivationArena.use(before);
    }

    private static UNetConfig tinyUnet() throws Exception {
        return ModelConfigFiles.read(Path.of("../models/sd-tiny.json")).unet();
    }

    /**
     * Bytes of op outputs allocated fresh so far, on every thread: what the arena saves. (A thread's allocation
     * counter would also count the Vector API's boxing while a kernel is not yet compiled, and which thread ran
     * which range of an op, both of which change from run to run.)
     */
    private static long freshOutputBytes() {
        return ActivationArena.freshBytes();
    }

    private record Forward(float[] eps, long allocatedBytes) {
    }

    /** The pass that allocated least of {@link #PASSES}, all giving the same values (the pool settles over them). */
    private static Forward leanest(java.util.function.Supplier<Forward> pass) {
        Forward best = pass.get();
        for (int i = 1; i < PASSES; i++) {
            Forward next = pass.get();
            assertArrayEquals(best.eps(), next.eps(), "passes agree");
            best = next.allocatedBytes() < best.allocatedBytes() ? next : best;
        }
        return best;
    }

    private static final int PASSES = 3;

    private static Forward forward(UNetModel unet, Tensor x, Tensor context) {
        try (var g = Autograd.noGrad()) {
            long before = freshOutputBytes();
            float[] eps = unet.forward(x, new float[] {10f, 700f}, context).toFloatArray();
            return new Forward(eps, freshOutputBytes() - before);
        }
    }

    @Test
    void unetForwardIsBitIdenticalAndAWarmPoolAllocatesFarLess() throws Exception {
        UNetConfig config = tinyUnet();
        UNetModel unet = new UNetModel(ParameterStore.random(5).root().sub(UNetModel.PREFIX), config);
        Tensor x = Rand.uniform(1, 2, 4, 16, 16);
        Tensor context = Rand.uniform(2, 2, 7, config.contextDim());

        ActivationArena.use(Mode.OFF);
        forward(unet, x, context); // creates the lazily initialised weights
        Forward off = leanest(() -> forward(unet, x, context));
        ActivationArena.use(Mode.CHECK);
        Forward cold = forward(unet, x, context);
        long reusedBefore = ActivationArena.reusedBytes();
        Forward warm = leanest(() -> forward(unet, x, context));

        assertArrayEquals(off.eps(), cold.eps());
        assertArrayEquals(off.eps(), warm.eps());
        assertTrue(ActivationArena.reusedBytes() > reusedBefore, "the second forward took arrays from the pool");
        assertTrue(warm.allocatedBytes() * 100 < off.allocatedBytes(), "a warm forward allocated op outputs of "
                + warm.allocatedBytes() + " bytes, one without the arena " + off.allocatedBytes());
    }

    /** The VAE's layers run in chained scopes (each recycles its input once read): same bits, far less allocation. */
    @Test
    void vaeDecodeAndEncodeAreBitIdenticalAndAWarmPoolAllocatesFarLess() throws Exception {
        VaeConfig config = ModelConfigFiles.read(Path.of("../models/sd-tiny.json")).vae();
        AutoencoderKL vae = new AutoencoderKL(ParameterStore.random(6).root().sub(AutoencoderKL.PREFIX), config);
        Tensor z = Rand.uniform(4, 1, config.zChannels(), 8, 8);
        ActivationArena.use(Mode.OFF);
        decodeAndEncode(vae, z); // creates the lazily initialised weights
        Forward off = leanest(() -> decodeAndEncode(vae, z));
        ActivationArena.use(Mode.CHECK);
        Forward cold = decodeAndEncode(vae, z);
        Forward warm = leanest(() -> decodeAndEncode(vae, z));
        assertArrayEquals(off.eps(), cold.eps());
        assertArrayEquals(off.eps(), warm.eps());
        assertTrue(warm.allocatedBytes() * 100 < off.allocatedBytes(), "a warm decode and encode allocated op outputs of "
                + warm.allocatedBytes() + " bytes, " + off.allocatedBytes() + " without the arena");
    }

    /** The decoded image followed by its encoded mean, as one array, and the bytes the pass allocated. */
    private static Forward decodeAndEncode(AutoencoderKL vae, Tensor z) {
        try (var g = Autograd.noGrad()) {
            long before = freshOutputBytes();
            Tensor image = vae.decode(z);
            float[] pixels = image.toFloatArray();
            float[] mean = vae.encodeMean(image).toFloatArray();
            long allocated = freshOutputBytes() - before;
            float[] both = java.util.Arrays.copyOf(pixels, pixels.length + mean.length);
            System.arraycopy(mean, 0, both, pixels.length, mean.length);
            return new Forward(both, allocated);
        }
    }

    @Test
    void trainingStepGradientsAreBitIdentical() throws Exception {
        UNetConfig config = tinyUnet();
        ParameterStore store = ParameterStore.random(5);
        UNetModel unet = new UNetModel(store.root().sub(UNetModel.PREFIX), config);
        Map<String, Tensor> trainable = new LinkedHashMap<>(store.parameters());
        trainable.values().forEach(p -> p.requiresGrad(true));
        trainable.put("x", Rand.uniform(1, 2, 4, 8, 8).requiresGrad(true));
        trainable.put("context", Rand.uniform(2, 2, 7, config.contextDim()).requiresGrad(true));
        Tensor target = Rand.uniform(3, 2, 4, 8, 8);

        ActivationArena.use(Mode.OFF);
        Map<String, float[]> off = gradients(unet, trainable, target);
        ActivationArena.use(Mode.CHECK);
        forward(unet, trainable.get("x").detach(), trainable.get("context").detach()); // a sampling step fills the pool
        Map<String, float[]> on = gradients(unet, trainable, target);
        unet.setGradientCheckpointing(true); // recomputation inside backward
        Map<String, float[]> checkpointed = gradients(unet, trainable, target);

        assertEquals(off.keySet(), on.keySet());
        for (String name : off.keySet()) {
            assertArrayEquals(off.get(name), on.get(name), name);
            assertArrayEquals(off.get(name), checkpointed.get(name), name + " (checkpointed)");
        }
    }

    private static Map<String, float[]> gradients(UNetModel unet, Map<String, Tensor> trainable, Tensor target) {
        trainable.values().forEach(Tensor::zeroGrad);
        Tensor eps = unet.forward(trainable.get("x"), new float[] {10f, 700f}, trainable.get("context"));
        Tensor loss = F.mseLoss(eps, target);
        loss.backward();
        Map<String, float[]> grads = new LinkedHashMap<>();
        grads.put("loss", new float[] {loss.item()});
        trainable.forEach((name, t) -> grads.put(name, t.grad() == null ? null : t.grad().toFloatArray()));
        return grads;
    }

    @Test
    void txt2imgIsBitIdentical() throws Exception {
        ClipTokenizer tokenizer = ClipTokenizer.load(Path.of("../models/clip/bpe_simple_vocab_16e6.txt.gz"));
        StableDiffusion sd = StableDiffusion.load(TestData.sdTiny("model.ckpt"),
                ModelConfigFiles.read(Path.of("../models/sd-tiny.json")), tokenizer);
        ActivationArena.use(Mode.OFF);
        float[] off = txt2img(sd);
        ActivationArena.use(Mode.CHECK);
        float[] on = txt2img(sd);
        assertArrayEquals(off, on);
        assertEquals(0, ActivationArena.pooledBytes(), "the pool is emptied when sampling ends and after the decode");
    }

    private static float[] txt2img(StableDiffusion sd) {
        GenerationRequest r = GenerationRequest.txt2img("a photo of a cat").withSampler("ddim", false)
                .withSize(64, 64).withSteps(4, 7.5f, 11);
        List<StableDiffusion.GeneratedImage> out = sd.generate(r, new StableDiffusion.Listener() {
            @Override
            public void onStep(int step, int total) {
            }
        });
        return out.get(0).pixels().toFloatArray();
    }
}
