package sdj.sd.lora;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.stream.Stream;
import sdj.nn.Parameter;
import sdj.sd.DiffusersNames;
import sdj.sd.ModelConfigs;
import sdj.sd.StableDiffusionModel;
import sdj.sd.prompt.LoraTags;
import sdj.tensor.Tensor;

/**
 * One LoRA to apply: a file and its strength, from a {@code FILE[:STRENGTH]} flag or a prompt tag
 * {@code <lora:NAME:STRENGTH>} looked up in a LoRA folder.
 */
public record LoraRequest(Path file, Strength strength) {
    /** File extensions a prompt tag's NAME may have, in the order they are tried. */
    private static final List<String> EXTENSIONS = List.of(".safetensors", ".pt", ".ckpt", ".bin");

    /** The same strength for text encoder and UNet. */
    public LoraRequest(Path file, float strength) {
        this(file, Strength.of(strength));
    }

    /** {@code FILE} (strength 1) or {@code FILE:STRENGTH}; a drive letter's colon is part of the file. */
    public static LoraRequest parse(String flag) {
        int colon = flag.lastIndexOf(':');
        if (colon > 1) {
            try {
                return new LoraRequest(Path.of(flag.substring(0, colon)), Float.parseFloat(flag.substring(colon + 1)));
            } catch (NumberFormatException e) {
                // the colon belongs to the file name
            }
        }
        return new LoraRequest(Path.of(flag), 1f);
    }

    /**
     * The file a prompt tag names: {@code dir/NAME.safetensors} (or .pt, .ckpt, .bin), else the first
     * such file of that name in a subfolder (A1111 searches its Lora folder tree by name).
     */
    public static LoraRequest resolve(LoraTags.Tag tag, Path dir) throws IOException {
        for (String ext : EXTENSIONS) {
            Path p = dir.resolve(tag.name() + ext);
            if (Files.isRegularFile(p)) {
                return new LoraRequest(p, new Strength(tag.textEncoder(), tag.unet()));
            }
        }
        if (Files.isDirectory(dir)) {
            try (Stream<Path> files = Files.walk(dir)) {
                Optional<Path> found = files.filter(Files::isRegularFile)
                        .filter(p -> EXTENSIONS.stream().anyMatch(ext -> p.getFileName().toString().equals(tag.name() + ext)))
                        .sorted().findFirst();
                if (found.isPresent()) {
                    return new LoraRequest(found.get(), new Strength(tag.textEncoder(), tag.unet()));
                }
            }
        }
        throw new IllegalArgumentException("prompt tag <lora:" + tag.name() + "> names no file " + tag.name()
                + ".safetensors (or .pt/.ckpt/.bin) in " + dir + "; put the file there or pass --lora-dir");
    }

    /**
     * {@code stateDict} with every request folded in, in order; one summary line per file goes to
     * {@code log} (modules applied, keys not used).
     */
    public static Map<String, Tensor> applyAll(Map<String, Tensor> stateDict, ModelConfigs configs,
            List<LoraRequest> requests, Consumer<String> log) throws IOException {
        LoraMerge merge = new LoraMerge(DiffusersNames.of(configs));
        Map<String, Tensor> out = stateDict;
        for (LoraRequest r : requests) {
            if (!Files.isRegularFile(r.file())) {
                throw new IllegalArgumentException("LoRA file " + r.file() + " does not exist; check the --lora path");
            }
            LoraMerge.Result result = merge.apply(out, LoraFile.read(r.file()), r.strength());
            log.accept(result.summary(r.file().getFileName().toString(), r.strength()));
            out = result.stateDict();
        }
        return out;
    }

    /**
     * Folds every request into a built model's weights in place (each merged weight goes back behind
     * its parameter handle on the model's device and dtype); one summary line per file goes to {@code log}.
     */
    public static void applyTo(StableDiffusionModel model, List<LoraRequest> requests, Consumer<String> log)
            throws IOException {
        Map<String, Parameter> handles = model.store().handles();
        Map<String, Tensor> current = model.parameters();
        Map<String, Tensor> merged = applyAll(current, model.configs(), requests, log);
        merged.forEach((key, t) -> {
            if (t != current.get(key)) {
                handles.get(key).set(t.to(model.device(), model.dtype()));
            }
        });
    }
}
