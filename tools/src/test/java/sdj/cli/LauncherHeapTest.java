package sdj.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The launcher's default heap (`./sdj` with SDJ_DRY_RUN=1 prints the flag it would pass): a generation command
 * gets 2 GiB per 512×512 image, in proportion to --W·--H·--n-samples, within 75% of the machine (at most 20 GiB);
 * every other command gets that machine share; SDJ_HEAP overrides both. Whole-model training also gets its heap
 * reserved at once and a young generation of an eighth of it, leaving the old generation to the state.
 */
class LauncherHeapTest {
    private static final Path LAUNCHER = Path.of("..", "sdj").toAbsolutePath().normalize();

    @Test
    void generationGetsItsImagesNeedAndEverythingElseTheMachinesShare() throws Exception {
        assumeTrue(Files.isReadable(Path.of("/proc/meminfo")) && Files.isExecutable(Path.of("/bin/bash")),
                "needs Linux's /proc/meminfo and bash");
        long machine = machineShareMib();
        assertEquals("-Xmx" + Math.min(2048, machine) + "m", heapFlag(Map.of(), "txt2img", "--prompt", "a cat"));
        assertEquals("-Xmx" + Math.min(8192, machine) + "m", heapFlag(Map.of(), "txt2img", "--W", "1024", "--H", "1024"));
        assertEquals("-Xmx" + Math.min(4608, machine) + "m", heapFlag(Map.of(), "txt2img", "--W=768", "--H=768"));
        assertEquals("-Xmx" + Math.min(4096, machine) + "m", heapFlag(Map.of(), "img2img", "--n-samples", "2"));
        assertEquals("-Xmx" + Math.min(2048, machine) + "m", heapFlag(Map.of(), "txt2img", "--W", "256", "--H", "256"),
                "a small image still gets the 2 GiB floor");
        String trainingPages = hugePagesOnRequest() ? " -XX:+UseTransparentHugePages" : "";
        // whole-model training: the heap reserved at once, an eighth of it (≥ 1 GiB) young, the rest for the state
        long young = Math.max(1024, machine / 8);
        String wholeModel = "-Xmx" + machine + "m -Xms" + machine + "m -XX:NewSize=" + young + "m -XX:MaxNewSize="
                + young + "m" + trainingPages;
        assertEquals(wholeModel, heapFlag(Map.of(), "train", "dreambooth"));
        assertEquals(wholeModel, heapFlag(Map.of(), "bench", "--latent", "32", "train"), "bench train: dreambooth");
        assertEquals(wholeModel, heapFlag(Map.of(), "bench", "unet-train"));
        // adapter training: the heap reserved at once, all young but what the old generation keeps (≥ 40%, ≥ 6 GiB)
        long adapterYoung = machine - Math.max(machine * 2 / 5, 6144);
        String adapter = adapterYoung >= 1024 ? "-Xmx" + machine + "m -Xms" + machine + "m -XX:NewSize=" + adapterYoung
                + "m -XX:MaxNewSize=" + adapterYoung + "m" + trainingPages : "-Xmx" + machine + "m" + trainingPages;
        assertEquals(adapter, heapFlag(Map.of(), "train", "lora"));
        assertEquals(adapter, heapFlag(Map.of(), "train", "custom-diffusion"));
        assertEquals(adapter, heapFlag(Map.of(), "bench", "train", "--method", "cd"));
        assertEquals(adapter, heapFlag(Map.of(), "bench", "train", "--method=lora"));
        assertEquals("-Xmx18g -Xms18g -XX:NewSize=11060m -XX:MaxNewSize=11060m" + trainingPages,
                heapFlag(Map.of("SDJ_HEAP", "18g"), "train", "lora"));
        assertEquals("-Xmx12g -Xms12g -XX:NewSize=6144m -XX:MaxNewSize=6144m" + trainingPages,
                heapFlag(Map.of("SDJ_HEAP", "12g"), "bench", "train", "--method", "cd"), "the old generation's 6 GiB floor");
        assertEquals("-Xmx6g" + trainingPages, heapFlag(Map.of("SDJ_HEAP", "6g"), "train", "lora"),
                "no young generation left beside the 6 GiB: the collector's own sizing");
        assertEquals("-Xmx12g -Xms12g -XX:NewSize=1536m -XX:MaxNewSize=1536m" + trainingPages,
                heapFlag(Map.of("SDJ_HEAP", "12g"), "train", "dreambooth"));
        assertEquals("-Xmx6g -Xms6g -XX:NewSize=1024m -XX:MaxNewSize=1024m" + trainingPages,
                heapFlag(Map.of("SDJ_HEAP", "6g"), "train", "dreambooth"), "at least 1 GiB young");
        assertEquals("-Xmx" + machine + "m", heapFlag(Map.of(), "bench", "unet"), "inference keeps 4 KB pages");
        assertEquals("-Xmx3g", heapFlag(Map.of("SDJ_HEAP", "3g"), "txt2img"));
        assertEquals("", heapFlag(Map.of("SDJ_JAVA_OPTS", "-Xmx5g"), "txt2img"), "SDJ_JAVA_OPTS has the last word");
    }

    /** The kernel's transparent huge pages are in "madvise" mode: a process gets them where it asks. */
    private static boolean hugePagesOnRequest() throws Exception {
        Path mode = Path.of("/sys/kernel/mm/transparent_hugepage/enabled");
        return Files.isReadable(mode) && Files.readString(mode).contains("[madvise]");
    }

    /** 75% of MemTotal in MiB, at most 20480. */
    private static long machineShareMib() throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
            if (line.startsWith("MemTotal:")) {
                long kib = Long.parseLong(line.replaceAll("[^0-9]", ""));
                return Math.min(20480, kib * 3 / 4 / 1024);
            }
        }
        throw new IllegalStateException("no MemTotal in /proc/meminfo");
    }

    private static String heapFlag(Map<String, String> env, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("/bin/bash", LAUNCHER.toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().remove("SDJ_HEAP");
        pb.environment().remove("SDJ_JAVA_OPTS");
        pb.environment().put("SDJ_DRY_RUN", "1");
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertEquals(0, p.waitFor(), "launcher output: " + out);
        return out;
    }
}
