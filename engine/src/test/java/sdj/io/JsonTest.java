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
                "[1] x", "{\"a\":1,\"a\":2}", "\"\\x\"", "\"a\nb\"", "{1:2}", "[1e]", "NaN"}) {
            assertThrows(Json.ParseException.class, () -> Json.parse(bad), bad);
        }
    }

    @Test
    void refusesDeepNestingWithoutStackOverflow() {
        String deep = "[".repeat(100_000);
        Json.ParseException e = assertThrows(Json.ParseException.class, () -> Json.parse(deep));
        assertTrue(e.getMessage().contains("deeper"), e.getMessage());
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
        assertThrows(IllegalArgumentException.class, () -> Json.write(List.of(Double.NaN)));
    }
}
