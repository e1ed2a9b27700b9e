package sdj.sd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdj.sd.clip.ClipConfig;

/** Model configs from a JSON file or from safetensors metadata strings, and their errors. */
class ModelConfigFilesTest {
    @TempDir
    Path dir;

    @Test
    void readsTheTinyModelsConfigFile() throws IOException {
        ModelConfigs c = ModelConfigFiles.read(Path.of("../models/sd-tiny.json"));
        assertEquals(new ClipConfig(49408, 77, 64, 2, 4), c.clip());
        assertEquals(32, c.unet().modelChannels());
        assertArrayEquals(new int[] {4, 2, 1}, c.unet().attentionResolutions());
        assertEquals(32, c.vae().ch());
        assertArrayEquals(new int[] {1, 2, 4, 4}, c.vae().chMult());
    }

    @Test
    void metadataSectionsOverrideOnlyWhatTheyName() {
        ModelConfigs c = ModelConfigFiles.fromMetadata(Map.of("clip", "{\"width\": 64, \"layers\": 2, \"heads\": 4}"),
                "x.safetensors");
        assertEquals(new ClipConfig(49408, 77, 64, 2, 4), c.clip());
        assertEquals(ModelConfigs.SD_V1.unet().modelChannels(), c.unet().modelChannels());
    }

    @Test
    void malformedJsonIsRefusedNamingTheFileAndTheProblem() throws IOException {
        Path file = Files.writeString(dir.resolve("bad.json"), "{\"clip\": {\"width\": 64,}}");
        IOException e = assertThrows(IOException.class, () -> ModelConfigFiles.read(file));
        assertTrue(e.getMessage().startsWith("model config " + file + " is not valid JSON: unexpected character ('}'"),
                e.getMessage());
        assertTrue(e.getMessage().endsWith(" at character 22"), e.getMessage());

        IllegalArgumentException m = assertThrows(IllegalArgumentException.class,
                () -> ModelConfigFiles.fromMetadata(Map.of("unet", "{\"a\":1,\"a\":1}"), "x.safetensors"));
        assertEquals("model config in the metadata of x.safetensors is not valid JSON: duplicate field 'a' at character 10",
                m.getMessage());
    }

    @Test
    void wrongValueTypesAreRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ModelConfigFiles.fromMetadata(Map.of("clip", "{\"width\": \"wide\"}"), "x.safetensors"));
        assertTrue(e.getMessage().startsWith("model config x.safetensors has a value of the wrong type"), e.getMessage());
    }

    @Test
    void theLatentScaleFactorIsReadAndDefaultsToSdV1s() throws IOException {
        assertEquals(0.18215f, ModelConfigFiles.read(Path.of("../models/sd-tiny.json")).scaleFactor());
        Path own = Files.writeString(dir.resolve("own.json"), "{\"scale_factor\": 0.5}");
        assertEquals(0.5f, ModelConfigFiles.read(own).scaleFactor());
        assertEquals(0.25f, ModelConfigFiles.fromMetadata(Map.of("scale_factor", "0.25"), "x.safetensors").scaleFactor());
        assertEquals(0.18215f, ModelConfigFiles.fromMetadata(Map.of(), "x.safetensors").scaleFactor());
        Path negative = Files.writeString(dir.resolve("neg.json"), "{\"scale_factor\": -1}");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ModelConfigFiles.read(negative));
        assertEquals("model config " + negative + " has scale_factor -1: it must be a positive number (SD v1: 0.18215)",
                e.getMessage());
    }

    @Test
    void theVaeGroupCountIsDiffusersNormNumGroupsAndDefaultsToCompVis32() throws IOException {
        assertEquals(32, ModelConfigFiles.read(Path.of("../models/sd-tiny.json")).vae().normNumGroups());
        assertEquals(4, ModelConfigFiles.read(Path.of("../models/sdj-shapes.json")).vae().normNumGroups());
        Map<String, Object> diffusers = DiffusersConfigs.vae(ModelConfigFiles.read(Path.of("../models/sdj-shapes.json"))
                .vae(), 64, 0.5);
        assertEquals(4, diffusers.get("norm_num_groups"));
    }

    @Test
    void aCheckpointsConfigIsTheGivenFileElseItsSafetensorsMetadataElseTheFallback() throws IOException {
        Path withConfig = dir.resolve("own.safetensors");
        sdj.io.SafeTensors.write(withConfig, Map.of("x", sdj.tensor.Tensor.zeros(1)),
                Map.of("unet", "{\"model_channels\": 64}", "clip", "{\"width\": 32, \"heads\": 2}", "scale_factor", "0.5"));
        ModelConfigs fromFile = ModelConfigFiles.forCheckpoint(null, withConfig, ModelConfigs.SD_V1);
        assertEquals(64, fromFile.unet().modelChannels());
        assertEquals(32, fromFile.clip().width());
        assertEquals(0.5f, fromFile.scaleFactor());
        assertEquals(32, ModelConfigFiles.forCheckpoint("../models/sd-tiny.json", withConfig, ModelConfigs.SD_V1).unet()
                .modelChannels());
        Path plain = dir.resolve("plain.safetensors");
        sdj.io.SafeTensors.write(plain, Map.of("x", sdj.tensor.Tensor.zeros(1)), Map.of());
        assertEquals(ModelConfigs.SD_V1, ModelConfigFiles.forCheckpoint(null, plain, ModelConfigs.SD_V1));
        assertEquals(ModelConfigs.SD_V1, ModelConfigFiles.forCheckpoint(null, dir.resolve("m.ckpt"), ModelConfigs.SD_V1));
    }
}
