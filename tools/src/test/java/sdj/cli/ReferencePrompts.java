package sdj.cli;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The shared test data: the CLIP merges file and the reference ids of prompts.json (made by OpenAI
 * CLIP's tokenizer). Reads only the simple shape of that file; use {@code sdj.io.Json} once it exists.
 */
final class ReferencePrompts {
    private ReferencePrompts() {
    }

    static Path shared(String relative) {
        Path p = Path.of(System.getProperty("sdj.shared", "../../shared")).toAbsolutePath().normalize().resolve(relative);
        if (!Files.isRegularFile(p)) {
            fail("test data " + p + " is missing: these tests need the shared folder beside the repository "
                    + "(or -Dsdj.shared=DIR pointing at it)");
        }
        return p;
    }

    static Path clipMerges() {
        return shared("data/clip/bpe_simple_vocab_16e6.txt.gz");
    }

    /** The reference ids of {@code prompt}, space-separated as `sdj tokenize` prints them. */
    static String idsOf(String prompt) throws IOException {
        String json = Files.readString(shared("testdata/sd-tiny/prompts.json"));
        String promptsArray = json.substring(json.indexOf("\"prompts\""), json.indexOf("\"ids\""));
        List<String> prompts = new ArrayList<>();
        Matcher s = Pattern.compile("\"((?:[^\"\\\\]|\\\\.)*)\"").matcher(promptsArray.substring(promptsArray.indexOf('[')));
        while (s.find()) {
            prompts.add(s.group(1));
        }
        int index = prompts.indexOf(prompt);
        if (index < 0) {
            fail("prompts.json has no prompt '" + prompt + "'");
        }
        Matcher rows = Pattern.compile("\\[([\\d,\\s]+)]").matcher(json.substring(json.indexOf("\"ids\"")));
        for (int i = 0; i <= index; i++) {
            rows.find();
        }
        return String.join(" ", rows.group(1).trim().split("\\s*,\\s*"));
    }
}
