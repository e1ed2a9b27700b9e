package sdj.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdj.io.SafeTensors;
import sdj.io.StateDicts;
import sdj.io.TorchCheckpoint;
import sdj.tensor.DType;
import sdj.tensor.Tensor;

/** `sdj inspect` and `sdj convert` on the shared sd-tiny files. */
class IoCommandsTest {
    @TempDir
    Path dir;

    static Path sdTiny(String name) {
        Path p = Path.of(System.getProperty("sdj.shared", "../../shared")).resolve("testdata/sd-tiny").resolve(name);
        assertTrue(Files.isRegularFile(p), "test data " + p + " missing; run through Maven or set -Dsdj.shared");
        return p;
    }

    @Test
    void inspectCheckpointListsEntriesTensorsAndTotals() {
        CliRun r = CliRun.sdj("inspect", sdTiny("model.ckpt").toString());
        assertEquals(0, r.status(), r.err());
        List<String> lines = r.out().lines().toList();
        assertTrue(lines.get(0).matches(".*model\\.ckpt \\(PyTorch checkpoint, archive 'model'\\): opened in [0-9.]+ ms"), lines.get(0));
        assertEquals("state_dict: 983 entries", lines.get(1));
        assertEquals("global_step: 470000", lines.get(2));
        assertTrue(lines.contains("model.diffusion_model.out.2.weight F32 [4, 32, 3, 3]"));
        assertTrue(lines.contains("cond_stage_model.transformer.text_model.embeddings.position_ids I64 [1, 77]"));
        // Totals computed with Python's stdlib over the same file: 17136984 elements, 77 of them int64.
        assertEquals("983 tensors, 17136984 parameters, 68548244 bytes", lines.getLast());
    }

    @Test
    void inspectFiltersAndShowsSafetensorsMetadata() {
        CliRun r = CliRun.sdj("inspect", sdTiny("model.ckpt").toString(), "--filter", "^model\\.diffusion_model\\.out\\.");
        assertEquals(0, r.status(), r.err());
        // out.0 is a 32-channel GroupNorm (32 + 32), out.2 a 4x32x3x3 conv with bias (1152 + 4).
        assertEquals("4 tensors, 1220 parameters, 4880 bytes", r.out().lines().toList().getLast());
        CliRun s = CliRun.sdj("inspect", sdTiny("reference.safetensors").toString(), "--filter", "^unet\\.t$");
        assertEquals(0, s.status(), s.err());
        assertTrue(s.out().contains("metadata clip: {\"width\": 64, \"layers\": 2, \"heads\": 4}"), s.out());
        assertTrue(s.out().contains("unet.t I64 [2]\n1 tensors, 2 parameters, 16 bytes"), s.out());
    }

    /** The conversion itself is tested in the engine (CheckpointConversionTest); here: flags and output lines. */
    @Test
    void convertToHalfSafetensorsPrintsWhatItLeftOutAndWrote() throws Exception {
        Path out = dir.resolve("m16.safetensors");
        CliRun r = CliRun.sdj("convert", sdTiny("model.ckpt").toString(), out.toString(), "--dtype", "f16");
        assertEquals(0, r.status(), r.err());
        List<String> lines = r.out().lines().toList();
        assertEquals(2, lines.size(), r.out());
        assertEquals("note: safetensors holds only tensors; not copied: global_step", lines.get(0));
        // 17136984 elements, 77 of them int64 (inspect's totals): 77·8 + 17136907·2 bytes
        assertTrue(lines.get(1).matches("wrote \\Q" + out + "\\E: 983 tensors, 34274430 bytes of tensor data, in \\d+\\.\\d s"),
                lines.get(1));
        Map<String, Tensor> ours = SafeTensors.open(out).tensors();
        assertEquals(DType.F16, ours.get("model.diffusion_model.out.2.weight").dtype());
        assertEquals(DType.I64, ours.get("cond_stage_model.transformer.text_model.embeddings.position_ids").dtype());
    }

    @Test
    void convertCheckpointToCheckpointKeepsGlobalStepUnlessOnlyStateDict() throws Exception {
        Path full = dir.resolve("full.ckpt");
        Path only = dir.resolve("only.ckpt");
        CliRun fullRun = CliRun.sdj("convert", sdTiny("model-fp16.ckpt").toString(), full.toString(), "--dtype", "f32");
        assertEquals(0, fullRun.status(), fullRun.err());
        assertFalse(fullRun.out().contains("note:"), fullRun.out());
        assertEquals(0, CliRun.sdj("convert", sdTiny("model-fp16.ckpt").toString(), only.toString(), "--only-state-dict").status());
        Map<?, ?> fullRoot = (Map<?, ?>) TorchCheckpoint.open(full).root();
        assertEquals(470000L, fullRoot.get("global_step"));
        assertEquals(List.of("state_dict"), List.copyOf(((Map<?, ?>) TorchCheckpoint.open(only).root()).keySet()));
        assertEquals(DType.F32, StateDicts.load(full).get("model.diffusion_model.out.2.weight").dtype());
        assertEquals(DType.F16, StateDicts.load(only).get("model.diffusion_model.out.2.weight").dtype());
    }

    @Test
    void errorsAreOneSentenceNamingTheFile() throws Exception {
        CliRun missing = CliRun.sdj("inspect", dir.resolve("nope.ckpt").toString());
        assertEquals(1, missing.status());
        assertTrue(missing.err().contains("nope.ckpt: no such file"), missing.err());
        Path junk = Files.writeString(dir.resolve("junk.ckpt"), "hello, not a checkpoint");
        CliRun bad = CliRun.sdj("inspect", junk.toString());
        assertEquals(1, bad.status());
        assertTrue(bad.err().startsWith("sdj inspect: " + junk + ": not a PyTorch checkpoint"), bad.err());
        assertEquals(1, bad.err().lines().count());
        CliRun dtype = CliRun.sdj("convert", sdTiny("model.ckpt").toString(), dir.resolve("x.safetensors").toString(), "--dtype", "q4");
        assertTrue(dtype.err().contains("--dtype must be f16, bf16 or f32"), dtype.err());
        CliRun ext = CliRun.sdj("convert", sdTiny("model.ckpt").toString(), dir.resolve("x.onnx").toString());
        assertTrue(ext.err().contains("x.onnx: unknown file type"), ext.err());
    }
}
