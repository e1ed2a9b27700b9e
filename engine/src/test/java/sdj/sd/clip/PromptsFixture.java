package sdj.sd.clip;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The reference prompts and their CLIP token ids from {@code testdata/sd-tiny/prompts.json}.
 * Reads just the JSON that file uses (objects, arrays, strings, integers); replace with
 * {@code sdj.io.Json} once that exists.
 */
public record PromptsFixture(List<String> prompts, List<int[]> ids) {
    public static PromptsFixture load() throws IOException {
        return parse(Files.readString(SharedTestData.promptsJson()));
    }

    static PromptsFixture parse(String json) {
        Object root = new MiniJson(json).value();
        Map<?, ?> object = (Map<?, ?>) root;
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

    private static final class MiniJson {
        private final String s;
        private int pos;

        MiniJson(String s) {
            this.s = s;
        }

        Object value() {
            skip();
            char c = s.charAt(pos);
            if (c == '{') {
                Map<String, Object> m = new LinkedHashMap<>();
                pos++;
                while (!consume('}')) {
                    consume(',');
                    skip();
                    String key = string();
                    skip();
                    consume(':');
                    m.put(key, value());
                }
                return m;
            }
            if (c == '[') {
                List<Object> l = new ArrayList<>();
                pos++;
                while (!consume(']')) {
                    consume(',');
                    l.add(value());
                }
                return l;
            }
            if (c == '"') {
                return string();
            }
            int start = pos;
            while (pos < s.length() && "-0123456789".indexOf(s.charAt(pos)) >= 0) {
                pos++;
            }
            return Long.parseLong(s.substring(start, pos));
        }

        private String string() {
            StringBuilder sb = new StringBuilder();
            pos++;
            while (s.charAt(pos) != '"') {
                char c = s.charAt(pos++);
                if (c == '\\') {
                    char e = s.charAt(pos++);
                    switch (e) {
                        case 'n' -> sb.append('\n');
                        case 't' -> sb.append('\t');
                        case 'u' -> {
                            sb.append((char) Integer.parseInt(s.substring(pos, pos + 4), 16));
                            pos += 4;
                        }
                        default -> sb.append(e);
                    }
                } else {
                    sb.append(c);
                }
            }
            pos++;
            return sb.toString();
        }

        private boolean consume(char c) {
            skip();
            if (pos < s.length() && s.charAt(pos) == c) {
                pos++;
                return true;
            }
            return false;
        }

        private void skip() {
            while (pos < s.length() && Character.isWhitespace(s.charAt(pos))) {
                pos++;
            }
        }
    }
}
