package sdj.train.run;

import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.RecordComponent;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import sdj.io.AtomicFile;
import sdj.io.Json;

/**
 * {@link TrainConfig} as a JSON object (through {@link Json}, Jackson): written with the camelCase field
 * names; read accepting those or diffusers' snake_case names ({@code max_train_steps}). Fields left out
 * keep their defaults; an unknown name or a value of the wrong type is refused with a sentence.
 */
public final class TrainConfigJson {
    private static final RecordComponent[] FIELDS = TrainConfig.class.getRecordComponents();

    private TrainConfigJson() {
    }

    /** Every field by its camelCase name, nulls included. */
    public static Map<String, Object> toMap(TrainConfig config) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (RecordComponent f : FIELDS) {
            try {
                out.put(f.getName(), f.getAccessor().invoke(config));
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException("cannot read TrainConfig." + f.getName(), e);
            }
        }
        return out;
    }

    public static String write(TrainConfig config) {
        return Json.write(toMap(config));
    }

    public static void write(TrainConfig config, Path file) throws IOException {
        AtomicFile.write(file, write(config).getBytes(StandardCharsets.UTF_8));
    }

    /** The defaults overridden by the JSON object's entries; {@code origin} names it in errors. */
    public static TrainConfig parse(String json, String origin) {
        return apply(TrainConfig.defaults(), toMapOf(json, origin), origin);
    }

    /** The JSON object's entries, unconverted; one sentence naming {@code origin} when it is not an object. */
    static Map<String, Object> toMapOf(String json, String origin) {
        try {
            return Json.parseObject(json);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("Training config " + origin + " is not a JSON object ("
                    + e.getMessage() + "); write it as {\"instanceDataDir\": \"…\", …}.", e);
        }
    }

    public static TrainConfig read(Path file) throws IOException {
        return parse(Files.readString(file), file.toString());
    }

    /** base with the entries of changes (camelCase or snake_case names) replacing its fields. */
    static TrainConfig apply(TrainConfig base, Map<String, ?> changes, String origin) {
        Map<String, Object> values = toMap(base);
        for (Map.Entry<String, ?> e : changes.entrySet()) {
            String name = camelCase(e.getKey());
            if (!values.containsKey(name)) {
                throw new IllegalArgumentException("Training config " + origin + " has an unknown setting '" + e.getKey()
                        + "'; check its spelling against the TrainConfig fields (e.g. maxTrainSteps or max_train_steps).");
            }
            values.put(name, e.getValue());
        }
        Object[] args = new Object[FIELDS.length];
        Class<?>[] types = new Class<?>[FIELDS.length];
        for (int i = 0; i < FIELDS.length; i++) {
            types[i] = FIELDS[i].getType();
            args[i] = convert(values.get(FIELDS[i].getName()), types[i], FIELDS[i].getName(), origin);
        }
        try {
            return TrainConfig.class.getDeclaredConstructor(types).newInstance(args);
        } catch (InvocationTargetException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot build a TrainConfig", e);
        }
    }

    /** max_train_steps → maxTrainSteps; a camelCase name stays as it is. */
    static String camelCase(String name) {
        StringBuilder out = new StringBuilder();
        boolean upper = false;
        for (char c : name.toCharArray()) {
            if (c == '_') {
                upper = true;
            } else {
                out.append(upper ? Character.toUpperCase(c) : c);
                upper = false;
            }
        }
        return out.toString();
    }

    private static Object convert(Object v, Class<?> type, String name, String origin) {
        if (v == null) {
            if (type.isPrimitive()) {
                throw wrongType(name, type, null, origin);
            }
            return null;
        }
        if (type == String.class) {
            if (v instanceof String || v instanceof Path) {
                return v.toString();
            }
        } else if (type == boolean.class || type == Boolean.class) {
            if (v instanceof Boolean) {
                return v;
            }
        } else if (type == int.class || type == Integer.class || type == long.class || type == Long.class) {
            if (v instanceof Number n && (n instanceof Integer || n instanceof Long || n.doubleValue() == Math.rint(n.doubleValue()))) {
                long l = n.longValue();
                if (type == long.class || type == Long.class) {
                    return l;
                }
                if (l == (int) l) {
                    return (int) l;
                }
            }
        } else if (type == double.class || type == Double.class) {
            if (v instanceof Number n) {
                return n.doubleValue();
            }
        }
        throw wrongType(name, type, v, origin);
    }

    private static IllegalArgumentException wrongType(String name, Class<?> type, Object v, String origin) {
        String want = type == String.class ? "a string" : type == boolean.class || type == Boolean.class ? "true or false"
                : type == double.class || type == Double.class ? "a number" : "a whole number";
        return new IllegalArgumentException("Training config " + origin + " gives " + name + " = " + v + "; it needs "
                + want + (type.isPrimitive() ? "" : " or null") + ".");
    }
}
