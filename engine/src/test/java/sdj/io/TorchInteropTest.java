package sdj.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdj.tensor.Tensor;

/** When PyTorch is installed, it must load what sdj writes; skipped (with a message) otherwise. */
class TorchInteropTest {
    @TempDir
    Path dir;

    static String python(String script, Path... args) throws IOException, InterruptedException {
        String[] cmd = new String[3 + args.length];
        cmd[0] = "python3";
        cmd[1] = "-c";
        cmd[2] = script;
        for (int i = 0; i < args.length; i++) {
            cmd[3 + i] = args[i].toString();
        }
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException("python failed: " + out);
        }
        return out;
    }

    static boolean hasPython(String module) {
        try {
            python("import " + module);
            return true;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    /** "name dtype shape sha256-of-bytes" lines, sorted, as both sides print them (exact, NaN-safe). */
    static String summary(Map<String, Tensor> tensors) throws Exception {
        StringBuilder b = new StringBuilder();
        for (Map.Entry<String, Tensor> e : new TreeMap<>(tensors).entrySet()) {
            Tensor t = e.getValue();
            byte[] digest = java.security.MessageDigest.getInstance("SHA-256").digest(RoundTripTest.bytesOf(t));
            b.append(e.getKey()).append(' ').append(t.dtype()).append(' ')
                    .append(java.util.Arrays.toString(t.shape())).append(' ')
                    .append(java.util.HexFormat.of().formatHex(digest)).append('\n');
        }
        return b.toString();
    }

    static final String PRINT = """
            import hashlib, sys, torch
            NAMES = {torch.float32: 'F32', torch.float16: 'F16', torch.bfloat16: 'BF16', torch.float64: 'F64',
                     torch.int64: 'I64', torch.int32: 'I32', torch.int16: 'I16', torch.int8: 'I8', torch.uint8: 'U8',
                     torch.bool: 'BOOL'}
            def show(sd):
                for k in sorted(sd):
                    t = sd[k]
                    raw = bytes(t.contiguous().reshape(-1).view(torch.uint8).tolist())
                    print(k, NAMES[t.dtype], list(t.shape), hashlib.sha256(raw).hexdigest())
            """;

    @Test
    void pytorchLoadsOurCheckpoint() throws Exception {
        assumeTrue(hasPython("torch"), "PyTorch is not installed (python3 -c 'import torch' fails); skipping the interop check");
        Map<String, Tensor> tensors = RoundTripTest.everyDType();
        tensors.remove("empty");
        Path p = dir.resolve("x.ckpt");
        TorchCheckpointWriter.write(p, Map.of("state_dict", tensors, "global_step", 470000L));
        String out = python(PRINT + """
                ck = torch.load(sys.argv[1], weights_only=True)
                assert ck['global_step'] == 470000
                show(ck['state_dict'])
                """, p);
        assertEquals(summary(tensors), out);
    }

    @Test
    void pytorchLoadsOurSafetensors() throws Exception {
        assumeTrue(hasPython("torch") && hasPython("safetensors"),
                "PyTorch or the safetensors package is not installed; skipping the interop check");
        Map<String, Tensor> tensors = RoundTripTest.everyDType();
        tensors.remove("empty");
        Path p = dir.resolve("x.safetensors");
        SafeTensors.write(p, tensors, Map.of("k", "v"));
        String out = python(PRINT + """
                from safetensors.torch import load_file
                from safetensors import safe_open
                assert safe_open(sys.argv[1], 'pt').metadata() == {'k': 'v'}
                show(load_file(sys.argv[1]))
                """, p);
        assertEquals(summary(tensors), out);
    }
}
