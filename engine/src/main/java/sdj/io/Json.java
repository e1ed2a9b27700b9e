package sdj.io;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.StreamWriteConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import java.util.Map;

/**
 * Strict JSON (RFC 8259) through one shared Jackson mapper, set up for untrusted input (safetensors
 * headers come from downloaded files). Values map to plain Java types: objects to
 * {@code LinkedHashMap<String,Object>} (file order kept, duplicate keys refused), arrays to
 * {@code ArrayList<Object>}, strings to String, integers that fit to Long, other numbers to Double,
 * true/false to Boolean and null to null.
 */
public final class Json {
    /** Nesting deeper than this many objects/arrays is refused, so hostile input cannot exhaust the stack. */
    public static final int MAX_DEPTH = 512;
    /**
     * The longest document, and so the longest string or key: the largest JSON sdj reads is a
     * safetensors header, capped at this size by the format's reference implementation.
     */
    public static final int MAX_DOCUMENT_CHARS = (int) SafeTensors.MAX_HEADER;
    /**
     * The longest number. Writers emit at most ~25 characters (a double's shortest form); the cap
     * keeps a hostile integer from costing quadratic time as it is converted.
     */
    public static final int MAX_NUMBER_CHARS = 1000;

    private static final ObjectMapper MAPPER = JsonMapper.builder(JsonFactory.builder()
                    .streamReadConstraints(StreamReadConstraints.builder()
                            .maxNestingDepth(MAX_DEPTH)
                            .maxDocumentLength(MAX_DOCUMENT_CHARS)
                            .maxStringLength(MAX_DOCUMENT_CHARS)
                            .maxNameLength(MAX_DOCUMENT_CHARS)
                            .maxNumberLength(MAX_NUMBER_CHARS)
                            .build())
                    .streamWriteConstraints(StreamWriteConstraints.builder().maxNestingDepth(MAX_DEPTH).build())
                    .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                    .build())
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .addModule(new SimpleModule("sdj-json")
                    .addDeserializer(Number.class, new JsonNumbers.Reader())
                    .addSerializer(Double.class, new JsonNumbers.FiniteWriter())
                    .addSerializer(Float.class, new JsonNumbers.FiniteWriter()))
            .build();

    private Json() {
    }

    /** Malformed JSON; the message says what and, where known, at which character. */
    public static final class ParseException extends IllegalArgumentException {
        ParseException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    public static Object parse(String text) {
        try {
            return MAPPER.readValue(text, Object.class);
        } catch (JsonProcessingException e) {
            throw new ParseException(describe(e), e);
        }
    }

    /** Parses text that must hold a JSON object. */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> parseObject(String text) {
        Object v = parse(text);
        if (!(v instanceof Map)) {
            throw new ParseException("expected a JSON object at character 0", null);
        }
        return (Map<String, Object>) v;
    }

    /**
     * Compact JSON for Map (keys as strings), List, Java arrays, CharSequence, Number, Boolean and
     * null. Non-finite doubles have no JSON form and are refused.
     */
    public static String write(Object value) {
        try {
            return MAPPER.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("cannot write JSON: " + describe(e), e);
        }
    }

    /**
     * Jackson's message as a clause of our sentences: lower-case start, the character offset, and
     * without the parts aimed at Jackson's users (setting names, "[Source: ...]" of the start marker).
     */
    static String describe(JacksonException e) {
        String m = String.valueOf(e.getOriginalMessage())
                .replaceAll(", from `[^`]*`\\)", ")")
                .replaceAll(" \\(start marker at \\[.*\\]\\)", "");
        if (m.length() > 1 && Character.isLowerCase(m.charAt(1))) { // "Duplicate", not "JSON"
            m = Character.toLowerCase(m.charAt(0)) + m.substring(1);
        }
        JsonLocation at = e.getLocation();
        return at != null && at.getCharOffset() >= 0 ? m + " at character " + at.getCharOffset() : m;
    }
}
