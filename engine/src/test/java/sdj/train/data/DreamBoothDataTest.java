package sdj.train.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Batch layout, the resize-and-crop pipeline against Pillow, and the seeded order and augmentation. */
class DreamBoothDataTest {
    @TempDir
    Path dir;

    /** Solid-colour 64×64 images whose red channel is the index, so each sample tells which file it came from. */
    private Path folder(String name, int count, int green) {
        Path d = dir.resolve(name);
        for (int i = 0; i < count; i++) {
            TestImages.solid(d.resolve(String.format("%s%02d.png", name, i)), 64, i << 16 | green << 8);
        }
        return d;
    }

    /** The byte a pixel value came from: v = b/127.5 − 1. */
    private static int byteOf(float v) {
        return Math.round((v + 1f) * 127.5f);
    }

    private static int[] redOfEachSample(Batch b) {
        float[] p = b.pixels().toFloatArray();
        int n = b.pixels().shape()[0];
        int per = p.length / n;
        int[] out = new int[n];
        for (int s = 0; s < n; s++) {
            out[s] = byteOf(p[s * per]);
        }
        return out;
    }

    @Test
    void batchesHoldInstancesThenTheirClassImagesAndTheLengthIsTheLongerList() {
        Path inst = folder("inst", 3, 10);
        Path cls = folder("cls", 5, 200);
        DreamBoothData data = DreamBoothData.open(DataConfig.of(inst, "sks dog", 64).withClasses(cls, "a dog")
                .withOrder(false, 2, 1));
        assertEquals(5, data.length());
        assertEquals(3, data.batchesPerEpoch());
        Batch b0 = data.batch(DataPosition.START);
        assertArrayEquals(new int[] {4, 3, 64, 64}, b0.pixels().shape());
        assertArrayEquals(new int[] {0, 1, 0, 1}, redOfEachSample(b0)); // inst00, inst01, cls00, cls01
        assertEquals(List.of("sks dog", "sks dog", "a dog", "a dog"), b0.prompts());
        assertEquals(200, byteOf(b0.pixels().toFloatArray()[2 * 3 * 64 * 64 + 64 * 64])); // class green plane
        // items 2, 3: instance 2 % 3, 3 % 3 = 2, 0; class 2, 3
        assertArrayEquals(new int[] {2, 0, 2, 3}, redOfEachSample(data.batch(new DataPosition(0, 1))));
        // the last batch has the one item left: instance 4 % 3 = 1, class 4
        Batch last = data.batch(new DataPosition(0, 2));
        assertArrayEquals(new int[] {1, 4}, redOfEachSample(last));
        assertEquals(1, last.instances());
        assertEquals(List.of(inst.resolve("inst01.png"), cls.resolve("cls04.png")), last.files());
        assertEquals(new DataPosition(0, 2), data.next(new DataPosition(0, 1)));
        assertEquals(new DataPosition(1, 0), data.next(new DataPosition(0, 2)));
    }

    @Test
    void classImagesWithTheirOwnCaptionsKeepThemAndTheRestGetTheClassPrompt() throws IOException {
        Path inst = folder("inst", 1, 10);
        Path cls = folder("cls", 3, 200);
        Files.writeString(cls.resolve("metadata.jsonl"), "{\"file_name\": \"cls00.png\", \"text\": \"a red circle\"}\n");
        Files.writeString(cls.resolve("cls01.txt"), "a blue square\n");
        DreamBoothData data = DreamBoothData.open(DataConfig.of(inst, "sks", 64).withClasses(cls, "a shape")
                .withOrder(false, 3, 1));
        assertEquals(List.of("sks", "sks", "sks", "a red circle", "a blue square", "a shape"),
                data.batch(DataPosition.START).prompts());
    }

    @Test
    void withoutClassImagesABatchIsInstancesOnly() {
        DreamBoothData data = DreamBoothData.open(DataConfig.of(folder("inst", 3, 0), "sks", 64).withOrder(false, 2, 1));
        assertEquals(3, data.length());
        assertArrayEquals(new int[] {0, 1}, redOfEachSample(data.batch(DataPosition.START)));
        assertArrayEquals(new int[] {2}, redOfEachSample(data.batch(new DataPosition(0, 1))));
    }

    /**
     * A 100×70 image at resolution 64: resized to 91×64 (floor(64·100/70)), center-cropped at left
     * round(27/2) = 14 (Python rounds half to even), as Pillow 9.4 + torchvision's rule give:
     * channel sums 520553, 519300, 523687 and the pixels below. The 70×100 transpose (crop top 14)
     * gives sums 520550, 519303, 523696.
     */
    @Test
    void resizeAndCenterCropMatchPillow() {
        TestImages.png(dir.resolve("land/a.png"), TestImages.image(100, 70, TestImages::formula));
        TestImages.png(dir.resolve("port/a.png"), TestImages.image(70, 100, (x, y) -> TestImages.formula(y, x)));
        Batch land = DreamBoothData.open(DataConfig.of(dir.resolve("land"), "p", 64).withCrop(true, false))
                .batch(DataPosition.START);
        int[][] bytes = planes(land.pixels().toFloatArray(), 64);
        assertArrayEquals(new long[] {520553, 519300, 523687}, sums(bytes));
        assertEquals(List.of(70, 66, 34), pixel(bytes, 64, 0, 0));
        assertEquals(List.of(71, 181, 29), pixel(bytes, 64, 63, 0));
        assertEquals(List.of(126, 212, 14), pixel(bytes, 64, 17, 40));
        assertEquals(List.of(184, 150, 92), pixel(bytes, 64, 63, 63));
        assertEquals(List.of(92, 29, 114), pixel(bytes, 64, 31, 5));

        Batch port = DreamBoothData.open(DataConfig.of(dir.resolve("port"), "p", 64).withCrop(true, false))
                .batch(DataPosition.START);
        int[][] pb = planes(port.pixels().toFloatArray(), 64);
        assertArrayEquals(new long[] {520550, 519303, 523696}, sums(pb));
        assertEquals(List.of(111, 182, 199), pixel(pb, 64, 50, 10));
    }

    private static int[][] planes(float[] p, int size) {
        int[][] out = new int[3][size * size];
        for (int c = 0; c < 3; c++) {
            for (int i = 0; i < size * size; i++) {
                out[c][i] = byteOf(p[c * size * size + i]);
            }
        }
        return out;
    }

    private static long[] sums(int[][] planes) {
        return Arrays.stream(planes).mapToLong(pl -> Arrays.stream(pl).asLongStream().sum()).toArray();
    }

    private static List<Integer> pixel(int[][] planes, int size, int x, int y) {
        return List.of(planes[0][y * size + x], planes[1][y * size + x], planes[2][y * size + x]);
    }

    @Test
    void centerCropRoundsHalfToEvenAsPython() {
        RgbImage wide = new RgbImage(7, 2, new int[14]);
        for (int i = 0; i < 14; i++) {
            wide.rgb()[i] = i;
        }
        // surplus 5 → round(2.5) = 2; surplus 3 → round(1.5) = 2; surplus 1 → round(0.5) = 0
        assertArrayEquals(new int[] {2, 3, 9, 10}, Preprocess.cropToSquare(wide, 2, true, null).rgb());
        RgbImage five = wide.crop(0, 0, 5, 2); // surplus 3 at size 2
        assertArrayEquals(new int[] {2, 3, 9, 10}, Preprocess.cropToSquare(five, 2, true, null).rgb());
        RgbImage three = wide.crop(0, 0, 3, 2); // surplus 1
        assertArrayEquals(new int[] {0, 1, 7, 8}, Preprocess.cropToSquare(three, 2, true, null).rgb());
    }

    @Test
    void randomCropReachesEveryOffsetAndOnlyValidOnes() {
        RgbImage img = new RgbImage(5, 4, new int[20]);
        for (int i = 0; i < 20; i++) {
            img.rgb()[i] = i; // value = y·5 + x, so the top-left value gives the offset
        }
        Set<Integer> corners = new HashSet<>();
        for (int seed = 0; seed < 300; seed++) {
            RgbImage c = Preprocess.cropToSquare(img, 3, false, DataOrder.augmentation(seed, 0, 0, 0));
            int tl = c.rgb()[0];
            assertArrayEquals(new int[] {tl, tl + 1, tl + 2, tl + 5, tl + 6, tl + 7, tl + 10, tl + 11, tl + 12}, c.rgb());
            corners.add(tl);
        }
        assertEquals(Set.of(0, 1, 2, 5, 6, 7), corners); // left 0..2, top 0..1
    }

    @Test
    void flipMirrorsAboutHalfTheImagesAndIsSeeded() {
        Path inst = dir.resolve("flip");
        TestImages.png(inst.resolve("a.png"), TestImages.image(64, 64, (x, y) -> x << 16 | y << 8 | 7));
        DataConfig config = DataConfig.of(inst, "p", 64).withCrop(true, true);
        DreamBoothData data = DreamBoothData.open(config);
        int flipped = 0;
        for (int e = 0; e < 40; e++) {
            float[] p = data.batch(new DataPosition(e, 0)).pixels().toFloatArray();
            int left = byteOf(p[5 * 64]); // red of pixel (0, 5) = source column
            int right = byteOf(p[5 * 64 + 63]);
            assertTrue(left == 0 && right == 63 || left == 63 && right == 0, left + " " + right);
            flipped += left == 63 ? 1 : 0;
            assertEquals(5, byteOf(p[64 * 64 + 5 * 64 + 10])); // rows are untouched (green = y)
        }
        assertTrue(flipped > 5 && flipped < 35, "flipped " + flipped + " of 40");
        DreamBoothData again = DreamBoothData.open(config);
        for (int e = 0; e < 40; e++) {
            assertArrayEquals(data.batch(new DataPosition(e, 0)).pixels().toFloatArray(),
                    again.batch(new DataPosition(e, 0)).pixels().toFloatArray());
        }
    }

    @Test
    void theSeedFixesTheOrderAndEachEpochIsAPermutation() {
        Path inst = folder("inst", 9, 0);
        DreamBoothData a = DreamBoothData.open(DataConfig.of(inst, "p", 64).withOrder(true, 4, 42));
        DreamBoothData b = DreamBoothData.open(DataConfig.of(inst, "p", 64).withOrder(true, 4, 42));
        DreamBoothData c = DreamBoothData.open(DataConfig.of(inst, "p", 64).withOrder(true, 4, 43));
        List<int[]> orders = new ArrayList<>();
        for (int e = 0; e < 4; e++) {
            int[] o = a.order(e);
            assertArrayEquals(o, b.order(e));
            assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5, 6, 7, 8}, Arrays.stream(o).sorted().toArray());
            orders.add(o);
        }
        assertFalse(Arrays.equals(orders.get(0), orders.get(1)), "epochs 0 and 1 share an order");
        assertFalse(Arrays.equals(orders.get(0), c.order(0)), "seeds 42 and 43 share an order");
        // the batches follow the order: batch 1 of epoch 2 holds items 4..7 of that epoch's order
        int[] o = orders.get(2);
        assertArrayEquals(new int[] {o[4], o[5], o[6], o[7]}, redOfEachSample(a.batch(new DataPosition(2, 1))));
        assertArrayEquals(new int[] {o[8]}, redOfEachSample(a.batch(new DataPosition(2, 2))));
        assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5, 6, 7, 8},
                DreamBoothData.open(DataConfig.of(inst, "p", 64).withOrder(false, 4, 42)).order(3));
    }

    @Test
    void aRandomCropIsRebuiltFromThePositionAlone() {
        Path inst = dir.resolve("big");
        TestImages.png(inst.resolve("a.png"), TestImages.image(64, 96, TestImages::formula));
        TestImages.png(inst.resolve("b.png"), TestImages.image(80, 64, TestImages::formula));
        DataConfig config = DataConfig.of(inst, "p", 64).withCrop(false, true).withOrder(true, 1, 5);
        DreamBoothData first = DreamBoothData.open(config);
        List<float[]> run = new ArrayList<>();
        DataPosition p = DataPosition.START;
        for (int i = 0; i < 8; i++) {
            run.add(first.batch(p).pixels().toFloatArray());
            p = first.next(p);
        }
        // a "resumed" run: a fresh dataset, jumping straight to batch 5 (epoch 2, batch 1) through JSON
        DataPosition resumed = DataPosition.fromJson(new DataPosition(2, 1).toJson());
        DreamBoothData second = DreamBoothData.open(config);
        assertArrayEquals(run.get(5), second.batch(resumed).pixels().toFloatArray());
        assertArrayEquals(run.get(7), second.batch(second.next(second.next(resumed))).pixels().toFloatArray());
        Set<Integer> distinct = new HashSet<>();
        for (float[] r : run) {
            distinct.add(Arrays.hashCode(r));
        }
        assertTrue(distinct.size() > 2, "8 batches of 2 images with random crops and flips are nearly all distinct");
    }

    @Test
    void aPositionIsSmallJson() {
        assertEquals("{\"epoch\":3,\"batch\":17}", new DataPosition(3, 17).toJson());
        assertEquals(new DataPosition(3, 17), DataPosition.fromJson("{\"batch\": 17, \"epoch\": 3}"));
    }
}
