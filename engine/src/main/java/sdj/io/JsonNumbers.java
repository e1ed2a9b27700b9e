package sdj.io;

import com.fasterxml.jackson.core.JsonGenerationException;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.deser.std.StdDeserializer;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import java.io.IOException;

/** How {@link Json} maps numbers: two Java types when reading, finite values only when writing. */
final class JsonNumbers {
    private JsonNumbers() {
    }

    /**
     * Integers that fit to Long, everything else (fractions, exponents, integers past 64 bits) to
     * Double, so readers check one integer type; Jackson alone would give Integer, Long or BigInteger.
     */
    static final class Reader extends StdDeserializer<Number> {
        Reader() {
            super(Number.class);
        }

        @Override
        public Number deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            if (p.currentToken() == JsonToken.VALUE_NUMBER_INT && p.getNumberType() != JsonParser.NumberType.BIG_INTEGER) {
                return p.getLongValue();
            }
            return p.getDoubleValue();
        }
    }

    /** NaN and infinities have no JSON form; Jackson would write them as strings a reader takes for text. */
    static final class FiniteWriter extends StdSerializer<Number> {
        FiniteWriter() {
            super(Number.class);
        }

        @Override
        public void serialize(Number n, JsonGenerator gen, SerializerProvider provider) throws IOException {
            if (!Double.isFinite(n.doubleValue())) {
                throw new JsonGenerationException("JSON has no representation for " + n, gen);
            }
            if (n instanceof Float f) {
                gen.writeNumber(f);
            } else {
                gen.writeNumber(n.doubleValue());
            }
        }
    }
}
