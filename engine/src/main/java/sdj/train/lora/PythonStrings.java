package sdj.train.lora;

import java.math.BigDecimal;

/**
 * Values as Python's {@code str()} writes them: kohya stores every metadata value as {@code str(v)}
 * (TRAINING-FACTS §4.3), so a reader comparing or parsing them sees "0.0001", "1e-05", "2.0", "True".
 */
final class PythonStrings {
    private PythonStrings() {
    }

    /** Python's repr of a float: shortest round-trip digits, plain for exponents −4..15, else "1.5e-05". */
    static String of(double v) {
        if (Double.isNaN(v)) {
            return "nan";
        }
        if (Double.isInfinite(v)) {
            return v > 0 ? "inf" : "-inf";
        }
        if (v == 0) {
            return 1 / v < 0 ? "-0.0" : "0.0";
        }
        BigDecimal d = new BigDecimal(Double.toString(v)).stripTrailingZeros(); // Java's shortest round-trip digits
        int exponent = d.precision() - d.scale() - 1;
        if (exponent >= -4 && exponent < 16) {
            String plain = d.toPlainString();
            return plain.contains(".") ? plain : plain + ".0";
        }
        String digits = d.unscaledValue().abs().toString();
        String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
        return (v < 0 ? "-" : "") + mantissa + "e" + (exponent < 0 ? "-" : "+")
                + String.format("%02d", Math.abs(exponent));
    }

    /** "True" / "False". */
    static String of(boolean b) {
        return b ? "True" : "False";
    }
}
