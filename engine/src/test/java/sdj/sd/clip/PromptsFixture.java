package sdj.sd.clip;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import sdj.io.Json;

/** The reference prompts and their CLIP token ids from {@code testdata/sd-tiny/prompts.json}. */
public record PromptsFixture(List<String> prompts, List<int[]> ids) {
    public static PromptsFixture load() throws IOException {
        return parse(Files.readString(SharedTestData.promptsJson()));
    }

    static PromptsFixture parse(String json) {
        Map<String, Object> object = Json.parseObject(json);
        List<String> prompts = new ArrayList<>();
        for (Object p : (List<?>) object.get("prompts")) {
            prompts.add((String) p);
        }
        List<int[]> ids = new ArrayList<>();
        for (Object row : (List<?>) object.get("ids")) {
            ids.add(((List<?>) row).stream().mapToInt(v -> ((Long) v).intValue()).toArray());
        }
        return new PromptsFixture(prompts, ids);
    }

    /** The reference ids of {@code prompt}. */
    public int[] idsOf(String prompt) {
        int i = prompts.indexOf(prompt);
        if (i < 0) {
            throw new IllegalArgumentException("prompts.json has no prompt '" + prompt + "'");
        }
        return ids.get(i);
    }
}
