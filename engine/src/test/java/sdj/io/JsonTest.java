package sdj.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTest {
    @Test
    void parsesAllValueKinds() {
        Object v = Json.parse(" {\"a\": [1, -2.5, 3e2, true, false, null], \"b\": {\"c\": \"x\\ty\\u00e9\\\"\"}, \"big\": 12345678901234567890} ");
        Map<?, ?> m = (Map<?, ?>) v;
        assertEquals(List.of("a", "b", "big"), List.copyOf(m.keySet()));
        assertEquals(Arrays.asList(1L, -2.5, 300.0, true, false, null), m.get("a"));
        assertEquals("x\ty\u00e9\"", ((Map<?, ?>) m.get("b")).get("c"));
        assertEquals(1.2345678901234567e19, m.get("big"));
        assertEquals("\uD83D\uDE00", Json.parse("\"\\ud83d\\ude00\""));
    }

    @Test
    void refusesMalformedInput() {
        for (String bad : new String[] {"", "{", "[1,]", "{\"a\":1,}", "01", "1.", "-", "\"abc", "tru", "{\"a\" 1}",
                "[1] x", "{\"a\":1,\"a\":2}", "\"\\x\"", "\"a\nb\"", "{1:2}", "[1e]", "NaN", "\ufeff{}", "[1]\u000b",
                "/* comment */ 1", "'single'", "[1 2]", "Infinity", "+1", ".5", "0x10", "{\"a\":1 \"b\":2}"}) {
            assertThrows(Json.ParseException.class, () -> Json.parse(bad), bad);
        }
    }

    @Test
    void refusesNestingPastTheDepthLimitWithoutStackOverflow() {
        String deepest = "[".repeat(Json.MAX_DEPTH) + "1" + "]".repeat(Json.MAX_DEPTH);
        Object v = Json.parse(deepest);
        for (int i = 1; i < Json.MAX_DEPTH; i++) {
            v = ((List<?>) v).get(0);
        }
        assertEquals(List.of(1L), v);
        String tooDeep = "[".repeat(Json.MAX_DEPTH + 1) + "]".repeat(Json.MAX_DEPTH + 1);
        Json.ParseException e = assertThrows(Json.ParseException.class, () -> Json.parse(tooDeep));
        assertEquals("document nesting depth (513) exceeds the maximum allowed (512)", e.getMessage());
        assertThrows(Json.ParseException.class, () -> Json.parse("[".repeat(100_000)));
        assertThrows(Json.ParseException.class, () -> Json.parse("{\"a\":".repeat(100_000)));
    }

    @Test
    void numbersUpToTheLengthLimitAreRead() {
        String longest = "1".repeat(Json.MAX_NUMBER_CHARS);
        assertEquals(Double.POSITIVE_INFINITY, Json.parse(longest)); // past double's range, as Double.parseDouble gives
        assertEquals(0.5, Json.parse("0." + "5".repeat(1) + "0".repeat(Json.MAX_NUMBER_CHARS - 3)));
        Json.ParseException e = assertThrows(Json.ParseException.class, () -> Json.parse(longest + "1"));
        assertEquals("number value length (1001) exceeds the maximum allowed (1000)", e.getMessage());
    }

    @Test
    void stringsLongerThanJacksonsDefaultCapAreRead() {
        // Jackson's own default refuses strings over 20M characters; sdj allows what the document allows.
        String text = "x".repeat(25_000_000);
        assertEquals(text, Json.parse("\"" + text + "\""));
        assertEquals(Map.of(text, 1L), Json.parse("{\"" + text + "\": 1}"));
    }

    @Test
    void refusesDocumentsOverTheSizeLimit() {
        String padding = " ".repeat(Json.MAX_DOCUMENT_CHARS - 1); // white space keeps the test quick
        assertEquals(7L, Json.parse(padding + "7"));
        Json.ParseException e = assertThrows(Json.ParseException.class, () -> Json.parse(padding + " 7"));
        assertTrue(e.getMessage().startsWith("document length"), e.getMessage());
        assertTrue(e.getMessage().contains("exceeds the maximum allowed (" + Json.MAX_DOCUMENT_CHARS + ")"), e.getMessage());
    }

    @Test
    void errorsSayWhatAndWhereInOneLine() {
        assertEquals("duplicate field 'a' at character 10", message("{\"a\":1,\"a\":2}"));
        assertEquals("unexpected end-of-input: expected close marker for Array at character 9", message("{\"a\":[1,2"));
        assertEquals("expected a JSON object at character 0",
                assertThrows(Json.ParseException.class, () -> Json.parseObject("[1]")).getMessage());
    }

    private static String message(String bad) {
        return assertThrows(Json.ParseException.class, () -> Json.parse(bad)).getMessage();
    }

    @Test
    void writeThenParseRoundTrips() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("s", "quote\" back\\ nl\n ctl\u0001 é");
        m.put("i", -42L);
        m.put("d", 1.0e-5);
        m.put("whole", 3.0);
        m.put("list", Arrays.asList(1L, null, true, "x"));
        m.put("arr", new int[] {4, 32, 3, 3});
        String text = Json.write(m);
        Map<?, ?> back = (Map<?, ?>) Json.parse(text);
        assertEquals(m.get("s"), back.get("s"));
        assertEquals(-42L, back.get("i"));
        assertEquals(1.0e-5, back.get("d"));
        assertEquals(3.0, back.get("whole"));
        assertEquals(m.get("list"), back.get("list"));
        assertEquals(List.of(4L, 32L, 3L, 3L), back.get("arr"));
        assertEquals("{\"a\":[1,2.5,\"b\"]}", Json.write(Map.of("a", List.of(1L, 2.5, "b"))));
    }

    @Test
    void refusesNonFiniteNumbers() {
        for (Object bad : new Object[] {List.of(Double.NaN), Map.of("k", Double.POSITIVE_INFINITY), List.of(Float.NEGATIVE_INFINITY)}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Json.write(bad));
            assertTrue(e.getMessage().startsWith("cannot write JSON: JSON has no representation for "), e.getMessage());
        }
        assertEquals("[1.5,-0.25]", Json.write(List.of(1.5f, -0.25)));
    }

    @Test
    void refusesWritingCyclesPastTheDepthLimit() {
        List<Object> cycle = new java.util.ArrayList<>();
        cycle.add(cycle);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Json.write(cycle));
        assertTrue(e.getMessage().contains("nesting depth (513) exceeds the maximum allowed (512)"), e.getMessage());
    }
}
