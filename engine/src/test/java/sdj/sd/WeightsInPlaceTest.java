package sdj.sd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdj.io.SafeTensors;
import sdj.io.StateDicts;
import sdj.io.TestData;
import sdj.tensor.Autograd;
import sdj.tensor.DType;
import sdj.tensor.MappedCopies;
import sdj.tensor.Tensor;

/**
 * The weights of an fp32 checkpoint are used in place from the memory-mapped file: none is a heap
 * array after loading, the CLIP, UNet and VAE outputs are bit for bit those of a model built from heap
 * copies of the same tensors, and a forward copies no weight out of the map.
 */
class WeightsInPlaceTest {
    @TempDir
    Path dir;

    @Test
    void fp32CkptWeightsStayInTheMapAndGiveTheHeapCopysOutputsBitForBit() throws Exception {
        assertInPlaceAndIdentical(TestData.sdTiny("model.ckpt"));
    }

    @Test
    void fp32SafetensorsWeightsStayInTheMapAndGiveTheHeapCopysOutputsBitForBit() throws Exception {
        Path st = dir.resolve("model.safetensors");
        StateDicts.save(st, StateDicts.load(TestData.sdTiny("model.ckpt")));
        assertInPlaceAndIdentical(st);
    }

    /**
     * An fp16 file's weights are converted once to fp32 at load, into native memory (not the heap, so the
     * heap a run needs does not depend on the checkpoint's dtype), and give the fp32 file's outputs within
     * fp16 rounding of the weights.
     */
    @Test
    void fp16WeightsAreConvertedOnceToFp32OutsideTheHeap() throws Exception {
        StableDiffusionModel half = load(TestData.sdTiny("model-fp16.ckpt"));
        Map<String, Tensor> file = StateDicts.load(TestData.sdTiny("model-fp16.ckpt"));
        for (Map.Entry<String, Tensor> e : half.parameters().entrySet()) {
            Tensor t = e.getValue();
            assertEquals(DType.F32, t.dtype(), e.getKey());
            assertNull(t.storage().heapFloats(), e.getKey() + " is not a heap array");
            assertTrue(t.storage().segment().isNative() && !t.storage().segment().isMapped(),
                    e.getKey() + " is a native fp32 copy");
            assertArrayEquals(file.get(e.getKey()).toFloatArray(), t.toFloatArray(), e.getKey() + " holds the file's values");
        }
        assertEquals(0, half.store().fp32CopiesAtLoad());
    }

    /**
     * Releasing the UNet's mapped pages takes them out of this process's resident file pages (Linux's
     * RssFile) and changes nothing it computes: the next forward faults them back in and gives the same bits.
     */
    @Test
    void releasedUNetPagesLeaveTheResidentSetAndComeBackUnchanged() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isReadable(Path.of("/proc/self/status")), "needs Linux's /proc");
        StableDiffusionModel model = load(TestData.sdTiny("model.ckpt"));
        Map<String, Tensor> inputs = heapInputs();
        float[] before = unetOutput(model, inputs);
        long unetBytes = model.parameters().entrySet().stream()
                .filter(e -> e.getKey().startsWith(sdj.sd.unet.UNetModel.PREFIX + "."))
                .mapToLong(e -> 4 * e.getValue().numel()).sum();
        long residentBefore = residentFileBytes();
        assertEquals(unetBytes, model.releaseMappedPages(sdj.sd.unet.UNetModel.PREFIX));
        long dropped = residentBefore - residentFileBytes();
        // whole pages only: pages shared with the neighbouring CLIP/VAE tensors may go too, a few may stay
        assertTrue(dropped > unetBytes * 0.9, "resident file pages fell by " + dropped + " bytes for " + unetBytes
                + " bytes of UNet weights");
        assertArrayEquals(before, unetOutput(model, inputs), "the UNet after its pages were released");
        assertEquals(0, load(TestData.sdTiny("model-fp16.ckpt")).releaseMappedPages(sdj.sd.unet.UNetModel.PREFIX),
                "an fp16 file's weights are heap copies: nothing mapped to release");
    }

    /**
     * Loading CLIP's mapped pages makes them resident before the first prompt reads them (Linux's RssFile
     * grows by about their size), and releasing them takes them out again.
     */
    @Test
    void clipPagesLoadedUpFrontAreResidentUntilReleased() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isReadable(Path.of("/proc/self/status")), "needs Linux's /proc");
        StableDiffusionModel model = load(TestData.sdTiny("model.ckpt"));
        String clip = sdj.sd.clip.ClipTextModel.PREFIX;
        long clipBytes = model.parameters().entrySet().stream().filter(e -> e.getKey().startsWith(clip + "."))
                .mapToLong(e -> 4 * e.getValue().numel()).sum();
        model.releaseMappedPages(clip);
        long residentBefore = residentFileBytes();
        assertEquals(clipBytes, model.loadMappedPages(clip));
        long loaded = residentFileBytes() - residentBefore;
        // whole pages: the neighbouring tensors' shared first and last pages may come in too
        assertTrue(loaded > clipBytes * 0.9, "resident file pages grew by " + loaded + " bytes for " + clipBytes
                + " bytes of CLIP weights");
        model.releaseMappedPages(clip);
        assertTrue(residentBefore - residentFileBytes() < clipBytes * 0.1, "released again");
        assertEquals(0, load(TestData.sdTiny("model-fp16.ckpt")).loadMappedPages(clip), "fp16: nothing mapped");
    }

    private static float[] unetOutput(StableDiffusionModel m, Map<String, Tensor> ref) {
        try (var g = Autograd.noGrad()) {
            return m.unet().forward(ref.get("unet.x"), ref.get("unet.t").toFloatArray(), ref.get("unet.context"))
                    .toFloatArray();
        }
    }

    /** RssFile of /proc/self/status in bytes. */
    private static long residentFileBytes() throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("RssFile:")) {
                return 1024 * Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IllegalStateException("no RssFile in /proc/self/status");
    }

    private void assertInPlaceAndIdentical(Path file) throws Exception {
        Map<String, Tensor> stateDict = StateDicts.load(file);
        StableDiffusionModel mapped = fromStateDict(stateDict, file);
        Map<String, Tensor> heapDict = new LinkedHashMap<>();
        stateDict.forEach((k, t) -> heapDict.put(k, t.dtype() == DType.F32 ? Tensor.of(t.toFloatArray(), t.shape()) : t));
        StableDiffusionModel heap = fromStateDict(heapDict, file);

        assertEquals(0, mapped.store().fp32CopiesAtLoad());
        for (Map.Entry<String, Tensor> e : mapped.parameters().entrySet()) {
            assertEquals(DType.F32, stateDict.get(e.getKey()).dtype(), e.getKey());
            assertNull(e.getValue().storage().heapFloats(), e.getKey() + " should be read from the mapped file");
            assertTrue(e.getValue().storage().segment().isNative(), e.getKey() + " lives in the file's mapping");
            assertNotNull(heap.parameters().get(e.getKey()).storage().heapFloats(), e.getKey() + " (heap model)");
        }

        Map<String, Tensor> inputs = heapInputs();
        MappedCopies.Count before = MappedCopies.now();
        List<float[]> fromMap = outputs(mapped, inputs);
        MappedCopies.Count copies = MappedCopies.now().since(before);
        List<float[]> fromHeap = outputs(heap, inputs);
        assertEquals(0, copies.copies(), "weights copied out of the map during the forwards: " + copies);
        for (int i = 0; i < fromMap.size(); i++) {
            assertArrayEquals(fromHeap.get(i), fromMap.get(i), "output " + i + " (clip, unet, vae decode, vae encode)");
        }
    }

    /** The reference inputs of sd-tiny as heap tensors, as a pipeline makes them: only the weights are mapped. */
    private static Map<String, Tensor> heapInputs() throws Exception {
        Map<String, Tensor> ref = new LinkedHashMap<>();
        SafeTensors.open(TestData.sdTiny("reference.safetensors")).tensors().forEach((k, t) -> ref.put(k,
                t.dtype() == DType.F32 ? Tensor.of(t.toFloatArray(), t.shape()) : t));
        return ref;
    }

    /** CLIP hidden states, the UNet's ε, a VAE decode and encode. */
    private static List<float[]> outputs(StableDiffusionModel m, Map<String, Tensor> ref) {
        try (var g = Autograd.noGrad()) {
            return List.of(m.clip().forward(ref.get("clip.input_ids")).toFloatArray(),
                    m.unet().forward(ref.get("unet.x"), ref.get("unet.t").toFloatArray(), ref.get("unet.context"))
                            .toFloatArray(),
                    m.vae().decode(ref.get("vae.z")).toFloatArray(),
                    m.vae().encodeMoments(ref.get("vae.image")).toFloatArray());
        }
    }

    private static StableDiffusionModel load(Path file) throws Exception {
        return fromStateDict(StateDicts.load(file), file);
    }

    private static StableDiffusionModel fromStateDict(Map<String, Tensor> stateDict, Path file) throws Exception {
        SafeTensors ref = SafeTensors.open(TestData.sdTiny("reference.safetensors"));
        ModelConfigs configs = ModelConfigFiles.fromMetadata(ref.metadata(), file.toString());
        assertTrue(Files.size(file) > 0);
        return StableDiffusionModel.fromStateDict(stateDict, configs, file.toString());
    }
}
