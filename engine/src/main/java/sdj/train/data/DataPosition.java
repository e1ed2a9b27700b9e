package sdj.train.data;

import java.util.LinkedHashMap;
import java.util.Map;
import sdj.io.Json;

/**
 * Where the data order stands: the next batch to load is batch {@code batch} (0-based) of epoch
 * {@code epoch} (0-based). With the config's seed this fixes every later batch, order and
 * augmentation included, so a resumed run continues exactly where the saved one stopped.
 */
public record DataPosition(int epoch, int batch) {
    public static final DataPosition START = new DataPosition(0, 0);

    public DataPosition {
        if (epoch < 0 || batch < 0) {
            throw new DataException("Data position epoch " + epoch + ", batch " + batch
                    + " is negative; use the position a run saved.");
        }
    }

    /** {@code {"epoch":E,"batch":B}} */
    public String toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("epoch", epoch);
        m.put("batch", batch);
        return Json.write(m);
    }

    public static DataPosition fromJson(String json) {
        Map<String, Object> m;
        try {
            m = Json.parseObject(json);
        } catch (IllegalArgumentException e) {
            throw new DataException("Data position " + json + " is not a JSON object (" + e.getMessage()
                    + "); use the position a run saved.", e);
        }
        if (!(m.get("epoch") instanceof Long e) || !(m.get("batch") instanceof Long b) || e > Integer.MAX_VALUE
                || b > Integer.MAX_VALUE) {
            throw new DataException("Data position " + json
                    + " needs integer \"epoch\" and \"batch\"; use the position a run saved.");
        }
        return new DataPosition(e.intValue(), b.intValue());
    }
}
