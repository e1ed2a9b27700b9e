package sdj.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DataCommandTest {
    @TempDir
    Path tmp;

    @Test
    void shapesThenClassifyScoresEveryImage() throws Exception {
        Path out = tmp.resolve("set");
        CliRun made = CliRun.sdj("data", "shapes", "--count", "20", "--out", out.toString(), "--seed", "3",
                "--shapes", "star,heart,circle");
        assertEquals(0, made.status(), made.err());
        assertTrue(Files.isRegularFile(out.resolve("00019.png")));
        List<String> lines = Files.readAllLines(out.resolve("metadata.jsonl"));
        assertEquals(20, lines.size());
        CliRun r = CliRun.sdj("data", "classify", out.toString());
        assertEquals(0, r.status(), r.err());
        assertEquals(List.of("colour 100.0% (20/20)", "shape 100.0% (20/20)", "background 100.0% (20/20)",
                "all three 100.0% (20/20)"), r.out().lines().toList());
    }

    @Test
    void classifyCountsAWrongCaptionAsWrong() throws Exception {
        Path out = tmp.resolve("set");
        assertEquals(0, CliRun.sdj("data", "shapes", "--count", "4", "--out", out.toString()).status());
        // claim every image shows a heart: none of the base shapes is one
        Path meta = out.resolve("metadata.jsonl");
        List<String> lines = Files.readAllLines(meta).stream()
                .map(l -> l.replaceAll("\"shape\":\"[a-z]+\"", "\"shape\":\"heart\"")).toList();
        Files.write(meta, lines);
        CliRun r = CliRun.sdj("data", "classify", out.toString());
        assertEquals(0, r.status(), r.err());
        assertEquals("shape 0.0% (0/4)", r.out().lines().toList().get(1));
    }

    @Test
    void theSameSeedGivesTheSameBytes() throws Exception {
        Path a = tmp.resolve("a");
        Path b = tmp.resolve("b");
        assertEquals(0, CliRun.sdj("data", "shapes", "--count", "5", "--out", a.toString(), "--seed", "9").status());
        assertEquals(0, CliRun.sdj("data", "shapes", "--count", "5", "--out", b.toString(), "--seed", "9").status());
        for (String f : List.of("00000.png", "00004.png", "metadata.jsonl")) {
            assertArrayEquals(Files.readAllBytes(a.resolve(f)), Files.readAllBytes(b.resolve(f)), f);
        }
    }

    @Test
    void badInputIsOneSentence() throws Exception {
        Path full = Files.createDirectories(tmp.resolve("full"));
        Files.writeString(full.resolve("x.txt"), "x");
        assertError("unknown shape 'hexagon'", "data", "shapes", "--count", "3", "--out", tmp.resolve("n").toString(),
                "--shapes", "circle,hexagon");
        assertError("unknown colour 'purple'", "data", "shapes", "--count", "3", "--out", tmp.resolve("n").toString(),
                "--colours", "red,purple");
        assertError("--count must be a positive whole number, got '0'", "data", "shapes", "--count", "0", "--out",
                tmp.resolve("n").toString());
        assertError("already exists and is not an empty folder", "data", "shapes", "--count", "3", "--out",
                full.toString());
        assertError("There is no " + full.resolve("metadata.jsonl"), "data", "classify", full.toString());
        assertEquals(false, Files.exists(tmp.resolve("n")));
    }

    private static void assertError(String part, String... args) {
        CliRun r = CliRun.sdj(args);
        assertEquals(1, r.status(), r.out());
        assertTrue(r.err().contains(part) && r.err().strip().lines().count() == 1, r.err());
    }
}
