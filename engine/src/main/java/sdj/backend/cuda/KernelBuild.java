package sdj.backend.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * What the build left in the jar under {@code sdj/kernels/}: one PTX per kernel family plus a BUILD
 * marker written by kernels/build-ptx.sh ("status=built" or "status=missing" with a reason).
 */
public final class KernelBuild {
    /** The kernel families, one kernels/<name>.cu → sdj/kernels/<name>.ptx each. */
    public static final List<String> FAMILIES = List.of("elementwise", "reduce", "softmax", "norm", "embedding",
            "upsample", "conv", "attention", "gemm", "copy", "optim");

    static final String RESOURCE_DIR = "/sdj/kernels/";

    private KernelBuild() {
    }

    /** Null when every family's PTX is packaged, else one sentence saying why kernels are missing. */
    public static String problem() {
        String marker = readMarker();
        if (marker == null) {
            return "kernels were not built (no sdj/kernels/BUILD marker on the class path)";
        }
        if (!marker.contains("status=built")) {
            return "kernels were not built (nvcc missing at build time)";
        }
        for (String family : FAMILIES) {
            if (KernelBuild.class.getResource(RESOURCE_DIR + family + ".ptx") == null) {
                return "kernels were not built completely (" + family + ".ptx is missing)";
            }
        }
        return null;
    }

    /** The PTX text of one family, NUL-terminated as cuModuleLoadData wants it. */
    static byte[] ptx(String family) {
        try (InputStream in = KernelBuild.class.getResourceAsStream(RESOURCE_DIR + family + ".ptx")) {
            if (in == null) {
                throw new CudaException("missing kernel resource " + family + ".ptx: " + problem());
            }
            byte[] text = in.readAllBytes();
            byte[] terminated = new byte[text.length + 1];
            System.arraycopy(text, 0, terminated, 0, text.length);
            return terminated;
        } catch (IOException e) {
            throw new CudaException("cannot read kernel resource " + family + ".ptx", e);
        }
    }

    private static String readMarker() {
        return resourceText(RESOURCE_DIR + "BUILD");
    }

    /** A text resource of the engine, or null when it is absent or unreadable. */
    static String resourceText(String resource) {
        try (InputStream in = KernelBuild.class.getResourceAsStream(resource)) {
            return in == null ? null : new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return null;
        }
    }
}
