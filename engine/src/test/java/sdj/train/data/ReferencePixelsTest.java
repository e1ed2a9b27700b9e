package sdj.train.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdj.io.SafeTensors;
import sdj.io.TestData;
import sdj.tensor.Tensor;

/**
 * The sd-tiny-train inputs: its four 128×128 PNGs through the dataset at resolution 128 (no resize),
 * center crop, no flip, file order, batch 2 with prior preservation give {@code in.pixels}
 * (PyTorch: float32(byte)/127.5 − 1, instances then classes) bit for bit.
 */
class ReferencePixelsTest {
    @TempDir
    Path dir;

    @Test
    void theFourTrainingImagesReproduceInPixelsBitForBit() throws Exception {
        Path src = TestData.shared().resolve("testdata/sd-tiny-train");
        Path inst = Files.createDirectories(dir.resolve("instance"));
        Path cls = Files.createDirectories(dir.resolve("class"));
        for (String n : List.of("instance_0.png", "instance_1.png")) {
            Files.copy(src.resolve(n), inst.resolve(n));
        }
        for (String n : List.of("class_0.png", "class_1.png")) {
            Files.copy(src.resolve(n), cls.resolve(n));
        }
        DataConfig config = DataConfig.of(inst, "photo of a <new1> cat", 128).withClasses(cls, "photo of a cat")
                .withCrop(true, false).withOrder(false, 2, 7);
        DreamBoothData data = DreamBoothData.open(config);
        assertEquals(1, data.batchesPerEpoch());
        Batch b = data.batch(DataPosition.START);
        assertEquals(List.of("photo of a <new1> cat", "photo of a <new1> cat", "photo of a cat", "photo of a cat"),
                b.prompts());
        assertEquals(2, b.instances());

        Tensor want = SafeTensors.open(src.resolve("train-reference.safetensors")).tensors().get("in.pixels");
        assertArrayEquals(new int[] {4, 3, 128, 128}, want.shape());
        assertArrayEquals(want.shape(), b.pixels().shape());
        assertArrayEquals(bits(want.toFloatArray()), bits(b.pixels().toFloatArray()));
    }

    private static int[] bits(float[] x) {
        int[] out = new int[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = Float.floatToRawIntBits(x[i]);
        }
        return out;
    }
}
