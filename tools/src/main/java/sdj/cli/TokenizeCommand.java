package sdj.cli;

import java.util.Arrays;
import java.util.stream.Collectors;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;
import sdj.sd.clip.ClipTokenizer;
import sdj.sd.clip.Encoded77;

/** `sdj tokenize --prompt P`: prints the 77 CLIP token ids SD v1 feeds its text encoder. */
public final class TokenizeCommand implements Command {
    @Override
    public String name() {
        return "tokenize";
    }

    @Override
    public String summary() {
        return "print the 77 CLIP token ids of a prompt (SD v1: start, ids, end, padding)";
    }

    @Override
    public Options options() {
        Options o = new Options();
        o.addOption(Option.builder().longOpt("prompt").hasArg().argName("TEXT").desc("the prompt to tokenize").build());
        o.addOption(Option.builder().longOpt("vocab").hasArg().argName("FILE")
                .desc(ClipVocabLocator.FILE + ", or a Hugging Face vocab.json (merges.txt beside it) or its folder; "
                        + "default: $" + ClipVocabLocator.ENV + ", else models/clip/, else ../shared/data/clip/")
                .build());
        return o;
    }

    @Override
    public int run(CommandLine cmd) throws Exception {
        String prompt = cmd.getOptionValue("prompt");
        if (prompt == null) {
            throw new UserError("say what to tokenize, e.g. 'sdj tokenize --prompt \"a photo of a cat\"'");
        }
        ClipTokenizer tokenizer = ClipTokenizer.load(ClipVocabLocator.locate(cmd.getOptionValue("vocab")));
        Encoded77 encoded = tokenizer.encode77WithReport(prompt);
        encoded.warning().ifPresent(w -> System.err.println("sdj tokenize: warning: " + w));
        System.out.println(Arrays.stream(encoded.ids()).mapToObj(Integer::toString).collect(Collectors.joining(" ")));
        return 0;
    }
}
