package sdj.train;

import java.util.List;
import java.util.Map;

/** Reading typed values from parsed JSON ({@link sdj.io.Json}) with errors that name the key and the file. */
public final class JsonValues {
    private JsonValues() {
    }

    public static double number(Map<String, Object> obj, String key, String origin) {
        Object v = obj.get(key);
        if (!(v instanceof Number n)) {
            throw new IllegalArgumentException(origin + ": '" + key + "' must be a number, found "
                    + (v == null ? "nothing" : "'" + v + "'") + "; add it to the hyperparameters");
        }
        return n.doubleValue();
    }

    /** A number, or NaN when the key is absent or null (an option that is off). */
    public static double optionalNumber(Map<String, Object> obj, String key, String origin) {
        return obj.get(key) == null ? Double.NaN : number(obj, key, origin);
    }

    @SuppressWarnings("unchecked")
    public static Map<String, Object> object(Map<String, Object> obj, String key, String origin) {
        Object v = obj.get(key);
        if (!(v instanceof Map)) {
            throw new IllegalArgumentException(origin + ": '" + key + "' must be a JSON object, found "
                    + (v == null ? "nothing" : "'" + v + "'"));
        }
        return (Map<String, Object>) v;
    }

    public static double[] numbers(Map<String, Object> obj, String key, int count, String origin) {
        Object v = obj.get(key);
        if (!(v instanceof List<?> list) || list.size() != count || !list.stream().allMatch(x -> x instanceof Number)) {
            throw new IllegalArgumentException(origin + ": '" + key + "' must be a list of " + count + " numbers, found "
                    + (v == null ? "nothing" : "'" + v + "'"));
        }
        return list.stream().mapToDouble(x -> ((Number) x).doubleValue()).toArray();
    }
}
