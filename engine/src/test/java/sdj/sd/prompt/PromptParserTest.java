package sdj.sd.prompt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Expected values are the examples in the docstring of A1111's parse_prompt_attention. */
class PromptParserTest {
    private static WeightedText w(String text, double weight) {
        return new WeightedText(text, weight);
    }

    /** Weights must match A1111's doubles exactly, so compare them bit for bit. */
    private static void assertParses(String prompt, WeightedText... expected) {
        assertEquals(List.of(expected), PromptParser.parse(prompt), "prompt: " + prompt);
    }

    @Test
    void plainText() {
        assertParses("normal text", w("normal text", 1.0));
    }

    @Test
    void roundBracketsMultiplyBy1point1() {
        assertParses("an (important) word", w("an ", 1.0), w("important", 1.1), w(" word", 1.0));
    }

    @Test
    void unbalancedBracketAppliesToTheRest() {
        assertParses("(unbalanced", w("unbalanced", 1.1));
    }

    @Test
    void escapedBracketsAreLiteral() {
        assertParses("\\(literal\\]", w("(literal]", 1.0));
    }

    @Test
    void neighboursOfEqualWeightJoin() {
        assertParses("(unnecessary)(parens)", w("unnecessaryparens", 1.1));
    }

    @Test
    void nestingExplicitWeightsAndSquareBrackets() {
        assertParses("a (((house:1.3)) [on] a (hill:0.5), sun, (((sky))).",
                w("a ", 1.0), w("house", 1.5730000000000004), w(" ", 1.1), w("on", 1.0), w(" a ", 1.1),
                w("hill", 0.55), w(", sun, ", 1.1), w("sky", 1.4641000000000006), w(".", 1.1));
    }

    @Test
    void emptyPromptIsOneEmptyRun() {
        assertParses("", w("", 1.0));
    }

    @Test
    void breakKeywordBecomesAMarkerAndEatsSurroundingSpace() {
        List<WeightedText> parsed = PromptParser.parse("a cat BREAK a dog");
        assertEquals(List.of(w("a cat", 1.0), w("BREAK", -1), w("a dog", 1.0)), parsed);
        assertTrue(parsed.get(1).isBreak());
        assertParses("a BREAKfast", w("a BREAKfast", 1.0));
    }
}
