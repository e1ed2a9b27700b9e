package sdj.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;
import sdj.sd.lora.LoraRequest;
import sdj.sd.pipeline.StableDiffusion;
import sdj.sd.prompt.LoraTags;

/**
 * The LoRA flags of txt2img and img2img: {@code --lora FILE[:STRENGTH]} (repeatable) and the folder
 * where prompt tags {@code <lora:NAME:STRENGTH>} are looked up ({@code --lora-dir}).
 */
final class LoraLoadFlags {
    static final String DEFAULT_DIR = "models/lora";

    private LoraLoadFlags() {
    }

    static void addTo(Options o) {
        o.addOption(Option.builder().longOpt("lora").hasArg().argName("FILE[:STRENGTH]")
                .desc("merge a LoRA file (kohya, diffusers or PEFT names) at STRENGTH (default 1); repeatable").build());
        o.addOption(Option.builder().longOpt("lora-dir").hasArg()
                .desc("folder of the LoRA files that prompt tags <lora:NAME:STRENGTH> name (default " + DEFAULT_DIR + ")")
                .build());
    }

    /** The --lora flags in order, then the prompt's tags resolved in the LoRA folder. */
    static List<LoraRequest> requests(CommandLine cmd) throws IOException {
        List<LoraRequest> out = new ArrayList<>();
        String[] flags = cmd.getOptionValues("lora");
        try {
            if (flags != null) {
                for (String f : flags) {
                    out.add(LoraRequest.parse(f));
                }
            }
            Path dir = Path.of(cmd.getOptionValue("lora-dir", Path.of(System.getProperty("sdj.root", "."))
                    .resolve(DEFAULT_DIR).toString()));
            for (LoraTags.Tag tag : LoraTags.of(cmd.getOptionValue("prompt", ""))) {
                out.add(LoraRequest.resolve(tag, dir));
            }
            if (!LoraTags.of(cmd.getOptionValue("negative-prompt", "")).isEmpty()) {
                System.err.println("note: <lora:…> tags in the negative prompt are ignored (removed from its text)");
            }
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
        return out;
    }

    /** Folds the requested LoRA files into the loaded model (nothing when there are none). */
    static void applyTo(StableDiffusion sd, List<LoraRequest> loras) throws IOException {
        if (loras.isEmpty()) {
            return;
        }
        try {
            LoraRequest.applyTo(sd.model(), loras, System.err::println);
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
    }
}
