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

    @Test
    void fp16WeightsAreConvertedOnceToHeapArrays() throws Exception {
        StableDiffusionModel model = load(TestData.sdTiny("model-fp16.ckpt"));
        for (Map.Entry<String, Tensor> e : model.parameters().entrySet()) {
            assertNotNull(e.getValue().storage().heapFloats(), e.getKey() + " is an fp32 heap copy of the fp16 file");
        }
        assertEquals(0, model.store().fp32CopiesAtLoad());
    }

    @Test
    void theWeightsHeapShareIsNothingForAnFp32FileAndTheFp32CopiesForAnFp16One() throws Exception {
        assertEquals(0, StableDiffusionModel.cpuHeapBytesOfWeights(StateDicts.load(TestData.sdTiny("model.ckpt"))));
        Map<String, Tensor> half = StateDicts.load(TestData.sdTiny("model-fp16.ckpt"));
        long networkElements = load(TestData.sdTiny("model-fp16.ckpt")).parameters().values().stream()
                .mapToLong(Tensor::numel).sum();
        // every network tensor of the file is taken (no unused network keys in sd-tiny), each as an fp32 copy
        assertEquals(4 * networkElements, StableDiffusionModel.cpuHeapBytesOfWeights(half));
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
