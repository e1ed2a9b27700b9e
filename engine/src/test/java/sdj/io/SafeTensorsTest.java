package sdj.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import sdj.tensor.DType;
import sdj.tensor.Tensor;

class SafeTensorsTest {
    @Test
    void referenceFileLoadsWithMetadata() throws Exception {
        SafeTensors st = SafeTensors.open(TestData.sdTiny("reference.safetensors"));
        assertEquals(List.of("config", "unet", "vae", "clip"), List.copyOf(st.metadata().keySet()));
        assertEquals("tiny", st.metadata().get("config"));
        Map<?, ?> clip = (Map<?, ?>) Json.parse(st.metadata().get("clip"));
        assertEquals(Map.of("width", 64L, "layers", 2L, "heads", 4L), clip);
        Map<?, ?> unet = (Map<?, ?>) Json.parse(st.metadata().get("unet"));
        assertEquals(32L, unet.get("model_channels"));
        Map<?, ?> vae = (Map<?, ?>) Json.parse(st.metadata().get("vae"));
        assertEquals(Boolean.TRUE, vae.get("double_z"));
        assertEquals(184, st.tensors().size());
    }

    @Test
    void tensorsMatchTheirIndependentDescriptions() throws Exception {
        Map<String, Tensor> t = StateDicts.load(TestData.sdTiny("reference.safetensors"));
        Tensor steps = t.get("unet.t");
        assertEquals(DType.I64, steps.dtype());
        assertArrayEquals(new long[] {10, 981}, steps.toLongArray());
        assertArrayEquals(new int[] {2, 4, 16, 16}, t.get("unet.eps").shape());
        assertArrayEquals(new int[] {1, 3, 64, 64}, t.get("vae.decoded").shape());
        assertTrue(t.get("unet.eps").storage().segment().isMapped());

        // The token ids must equal prompts.json's, which a different writer produced.
        Tensor ids = t.get("clip.input_ids");
        assertArrayEquals(new int[] {8, 77}, ids.shape());
        Map<?, ?> prompts = (Map<?, ?>) Json.parse(Files.readString(TestData.sdTiny("prompts.json")));
        List<?> rows = (List<?>) prompts.get("ids");
        long[] flat = ids.toLongArray();
        for (int r = 0; r < 8; r++) {
            List<?> row = (List<?>) rows.get(r);
            for (int c = 0; c < 77; c++) {
                assertEquals(((Number) row.get(c)).longValue(), flat[r * 77 + c], "id [" + r + "," + c + "]");
            }
        }
        assertEquals(49406L, flat[0]);
    }

    @Test
    void headerLengthStartingLikeAPickleIsStillSafetensors(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        // A header length whose low byte is 0x80 (the pickle PROTO opcode) must not be taken for torch.save.
        java.nio.file.Path p = dir.resolve("x.safetensors");
        for (int pad = 0; pad < 300; pad++) {
            SafeTensors.write(p, Map.of("w", Tensor.arange(3)), Map.of("pad", "x".repeat(pad)));
            if ((Files.readAllBytes(p)[0] & 0xff) == 0x80) {
                assertArrayEquals(new float[] {0, 1, 2}, StateDicts.load(p).get("w").toFloatArray());
                return;
            }
        }
        throw new AssertionError("no padding gave a header length ending in 0x80");
    }
}
