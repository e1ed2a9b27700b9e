package sdj.sd.sample;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/** Samplers by the names the command line uses. */
public final class Samplers {
    private static final Map<String, Function<SamplerOptions, Sampler>> BY_NAME = new LinkedHashMap<>();

    static {
        BY_NAME.put("ddim", DdimSampler::new);
        BY_NAME.put("plms", PlmsSampler::new);
        BY_NAME.put("ddpm", DdpmSampler::new);
        BY_NAME.put("euler", EulerSampler::new);
        BY_NAME.put("euler_a", EulerAncestralSampler::new);
        BY_NAME.put("heun", HeunSampler::new);
        BY_NAME.put("lms", LmsSampler::new);
        BY_NAME.put("dpmpp_2m", DpmPp2mSampler::new);
    }

    private Samplers() {
    }

    public static Iterable<String> names() {
        return BY_NAME.keySet();
    }

    public static Sampler byName(String name, SamplerOptions options) {
        Function<SamplerOptions, Sampler> make = BY_NAME.get(name);
        if (make == null) {
            throw new IllegalArgumentException("unknown sampler '" + name + "'; valid names: "
                    + String.join(", ", BY_NAME.keySet()));
        }
        Sampler s = make.apply(options);
        if (options.karras() && !(s instanceof KDiffusionSampler)) {
            throw new IllegalArgumentException("--karras applies to the k-diffusion samplers (euler, euler_a, heun, lms, "
                    + "dpmpp_2m), not to " + name);
        }
        return s;
    }
}
