package sdj.cli;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import sdj.io.Json;

/**
 * The shared test data: the CLIP merges file and the reference ids of prompts.json (made by OpenAI
 * CLIP's tokenizer).
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
        Map<String, Object> json = Json.parseObject(Files.readString(shared("testdata/sd-tiny/prompts.json")));
        int index = ((List<?>) json.get("prompts")).indexOf(prompt);
        if (index < 0) {
            fail("prompts.json has no prompt '" + prompt + "'");
        }
        List<?> ids = (List<?>) ((List<?>) json.get("ids")).get(index);
        return ids.stream().map(String::valueOf).collect(Collectors.joining(" "));
    }
}
