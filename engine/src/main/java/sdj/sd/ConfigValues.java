package sdj.sd;

import java.util.List;
import java.util.Map;

/** Reading numbers out of a parsed JSON config object, with a default for absent keys. */
public final class ConfigValues {
    private ConfigValues() {
    }

    public static int intOf(Map<String, Object> m, String key, int def) {
        Object v = m.get(key);
        return v == null ? def : ((Number) v).intValue();
    }

    public static int[] intsOf(Map<String, Object> m, String key, int[] def) {
        Object v = m.get(key);
        if (v == null) {
            return def;
        }
        List<?> list = (List<?>) v;
        int[] out = new int[list.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = ((Number) list.get(i)).intValue();
        }
        return out;
    }
}
