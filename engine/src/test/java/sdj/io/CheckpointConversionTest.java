package sdj.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdj.tensor.DType;
import sdj.tensor.Tensor;

/** .ckpt ↔ .safetensors conversion on the shared sd-tiny files, and the dtype cast of a checkpoint tree. */
class CheckpointConversionTest {
    /** sd-tiny's element count and how many are int64 (the position ids), counted with Python's stdlib. */
    private static final long ELEMENTS = 17136984;
    private static final long INT64_ELEMENTS = 77;

    @TempDir
    Path dir;

    private static byte[] bytesOf(Tensor t) {
        return t.storage().segment().toArray(ValueLayout.JAVA_BYTE);
    }

    @Test
    void checkpointToHalfSafetensorsMatchesPyTorchsOwnHalfCheckpoint() throws Exception {
        Path out = dir.resolve("m16.safetensors");
        CheckpointConversion.Source source = CheckpointConversion.read(TestData.sdTiny("model.ckpt"),
                StateDicts.Format.SAFETENSORS, false);
        assertEquals(List.of("global_step"), source.notCopied());
        CheckpointConversion.Written written = CheckpointConversion.write(source, out, DType.F16);
        assertEquals(983, written.tensors());
        assertEquals(INT64_ELEMENTS * 8 + (ELEMENTS - INT64_ELEMENTS) * 2, written.tensorBytes());
        Map<String, Tensor> ours = SafeTensors.open(out).tensors();
        Map<String, Tensor> torch = StateDicts.load(TestData.sdTiny("model-fp16.ckpt"));
        assertEquals(torch.keySet(), ours.keySet());
        for (Map.Entry<String, Tensor> e : torch.entrySet()) {
            Tensor a = e.getValue();
            Tensor b = ours.get(e.getKey());
            assertEquals(a.dtype(), b.dtype(), e.getKey());
            assertArrayEquals(a.shape(), b.shape(), e.getKey());
            if (a.dtype() == DType.I64) {
                assertArrayEquals(a.toLongArray(), b.toLongArray());
            } else {
                assertArrayEquals(bytesOf(a), bytesOf(b), e.getKey());
            }
        }
    }

    @Test
    void checkpointToCheckpointKeepsGlobalStepUnlessOnlyStateDict() throws Exception {
        Path full = dir.resolve("full.ckpt");
        Path only = dir.resolve("only.ckpt");
        Path half = TestData.sdTiny("model-fp16.ckpt");
        CheckpointConversion.Source all = CheckpointConversion.read(half, StateDicts.Format.TORCH, false);
        assertEquals(List.of(), all.notCopied());
        CheckpointConversion.write(all, full, DType.F32);
        CheckpointConversion.write(CheckpointConversion.read(half, StateDicts.Format.TORCH, true), only, null);
        Map<?, ?> fullRoot = (Map<?, ?>) TorchCheckpoint.open(full).root();
        assertEquals(470000L, fullRoot.get("global_step"));
        assertEquals(List.of("state_dict"), List.copyOf(((Map<?, ?>) TorchCheckpoint.open(only).root()).keySet()));
        Map<String, Tensor> f32 = StateDicts.load(full);
        Map<String, Tensor> original = StateDicts.load(TestData.sdTiny("model.ckpt"));
        assertEquals(DType.I64, f32.get("cond_stage_model.transformer.text_model.embeddings.position_ids").dtype());
        // half → float is exact, so this equals the fp32 checkpoint rounded to half.
        float[] want = original.get("model.diffusion_model.out.2.weight").toFloatArray();
        float[] got = f32.get("model.diffusion_model.out.2.weight").toFloatArray();
        for (int i = 0; i < want.length; i++) {
            assertEquals(Float.float16ToFloat(Float.floatToFloat16(want[i])), got[i]);
        }
        // without a dtype every tensor keeps its type: the fp16 checkpoint stays fp16
        assertEquals(DType.F16, StateDicts.load(only).get("model.diffusion_model.out.2.weight").dtype());
    }

    @Test
    void safetensorsToSafetensorsKeepsMetadataAndBytes() throws Exception {
        Path in = TestData.sdTiny("reference.safetensors");
        Path out = dir.resolve("copy.safetensors");
        CheckpointConversion.Source source = CheckpointConversion.read(in, StateDicts.Format.SAFETENSORS, false);
        assertEquals(List.of(), source.notCopied());
        CheckpointConversion.write(source, out, null);
        SafeTensors original = SafeTensors.open(in);
        SafeTensors copy = SafeTensors.open(out);
        assertEquals(original.metadata(), copy.metadata());
        assertEquals(original.tensors().keySet(), copy.tensors().keySet());
        for (Map.Entry<String, Tensor> e : original.tensors().entrySet()) {
            assertArrayEquals(bytesOf(e.getValue()), bytesOf(copy.tensors().get(e.getKey())), e.getKey());
        }
    }

    @Test
    void castCopiesOnlyFloatingTensorsOfAnotherType() throws Exception {
        Tensor f32 = Tensor.of(new float[] {1f, 1f / 3, -2.5f}, 3);
        Tensor f16 = Tensor.of(new float[] {0.5f}, 1).to(DType.F16);
        Tensor ids = Tensor.ofLongs(new long[] {1, 2}, 2);
        Map<String, Object> tree = new LinkedHashMap<>();
        tree.put("w", f32);
        tree.put("h", f16);
        tree.put("ids", ids);
        tree.put("list", new ArrayList<>(List.of(f32, "text", 3L)));
        tree.put("none", null);

        Map<?, ?> cast = (Map<?, ?>) CheckpointConversion.cast(tree, DType.F16);
        assertEquals(List.copyOf(tree.keySet()), List.copyOf(cast.keySet()));
        Tensor w = (Tensor) cast.get("w");
        assertEquals(DType.F16, w.dtype());
        // 1/3 rounds to the half 0x3555 = 0.333251953125
        assertArrayEquals(new float[] {1f, 0.333251953125f, -2.5f}, w.toFloatArray());
        assertSame(f16, cast.get("h"));
        assertSame(ids, cast.get("ids"));
        List<?> list = (List<?>) cast.get("list");
        assertEquals(DType.F16, ((Tensor) list.get(0)).dtype());
        assertEquals(List.of("text", 3L), list.subList(1, 3));
        assertNull(cast.get("none"));

        Map<?, ?> unchanged = (Map<?, ?>) CheckpointConversion.cast(tree, null);
        assertSame(f32, unchanged.get("w"));
        assertSame(f16, unchanged.get("h"));
    }

    /** A map holding a map holding ... {@code levels} maps below the root. */
    private static Map<String, Object> nested(int levels) {
        Map<String, Object> root = new HashMap<>();
        Map<String, Object> m = root;
        for (int i = 0; i < levels; i++) {
            Map<String, Object> inner = new HashMap<>();
            m.put("x", inner);
            m = inner;
        }
        return root;
    }

    @Test
    void nestingDeeperThanAnySavedCheckpointIsRefused() throws Exception {
        assertEquals(nested(100), CheckpointConversion.cast(nested(100), DType.F16));
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> CheckpointConversion.cast(nested(101), DType.F16));
        assertEquals("checkpoint nests deeper than 100 levels; cannot convert it", e.getMessage());
    }
}
