package sdj.train.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Training configs as JSON and YAML: the same settings read the same, and bad files are one sentence. */
class TrainConfigFileTest {
    @TempDir
    Path dir;

    @Test
    void yamlAndJsonGiveTheSameConfig() throws IOException {
        Path yaml = Files.writeString(dir.resolve("a.yml"), """
                instance_data_dir: dogs
                instancePrompt: a photo of sks dog
                learning_rate: 1e-4
                max_train_steps: 400
                with_prior_preservation: true
                snr_gamma: 5
                checkpoints_total_limit: null
                """);
        Path json = Files.writeString(dir.resolve("a.json"), """
                {"instance_data_dir": "dogs", "instancePrompt": "a photo of sks dog", "learning_rate": 1e-4,
                 "max_train_steps": 400, "with_prior_preservation": true, "snr_gamma": 5, "checkpoints_total_limit": null}
                """);
        TrainConfig fromYaml = TrainConfigFile.read(yaml);
        assertEquals(TrainConfigFile.read(json), fromYaml);
        assertEquals("dogs", fromYaml.instanceDataDir());
        assertEquals(1e-4, fromYaml.learningRate());
        assertEquals(400, fromYaml.maxTrainSteps());
        assertEquals(5.0, fromYaml.snrGamma());
        assertNull(fromYaml.checkpointsTotalLimit());
        assertEquals(TrainConfig.defaults().adamBeta2(), fromYaml.adamBeta2(), "left out: the default");
    }

    @Test
    void anEmptyYamlFileIsTheDefaults() throws IOException {
        assertEquals(TrainConfig.defaults(), TrainConfigFile.read(Files.writeString(dir.resolve("e.yaml"), "")));
        assertEquals(TrainConfig.defaults(), TrainConfigFile.read(Files.writeString(dir.resolve("c.yaml"), "# later\n")));
    }

    @Test
    void badFilesAreOneSentence() throws IOException {
        Path list = Files.writeString(dir.resolve("list.yaml"), "- a\n- b\n");
        assertEquals("Training config " + list + " is not a YAML mapping; write it as lines of 'instance_data_dir: …'.",
                message(list));
        Path broken = Files.writeString(dir.resolve("broken.yaml"), "a: [1, 2\n");
        assertTrue(message(broken).startsWith("Training config " + broken + " is not valid YAML ("), message(broken));
        Path typo = Files.writeString(dir.resolve("typo.yaml"), "resolution: large\n");
        assertEquals("Training config " + typo + " gives resolution = large; it needs a whole number.", message(typo));
        Path missing = dir.resolve("none.json");
        assertEquals("Training config " + missing + " does not exist; give a JSON or YAML file of TrainConfig settings.",
                message(missing));
    }

    private static String message(Path file) {
        return assertThrows(IllegalArgumentException.class, () -> TrainConfigFile.read(file)).getMessage();
    }
}
