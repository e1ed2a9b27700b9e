package sdj.backend.cpu;

import java.util.Locale;

/**
 * Chooses how the CPU runs a convolution: direct (im2col + GEMM) or Winograd, for A/B runs set with
 * {@code -Dsdj.conv=direct|winograd|f23|f43|auto} or the environment variable {@code SDJ_CONV} (the property
 * wins). {@code auto} (the default) takes Winograd only on the shapes where it measured faster;
 * {@code winograd} takes F(4,3) for every eligible conv (3×3, stride 1, padding 1 on all sides); {@code f23}
 * and {@code f43} force the tile size.
 */
final class ConvAlgorithm {
    /**
     * Fewest output pixels (over the batch) for Winograd in auto mode: the filter transform costs α²·O·C
     * per call whatever the image size, so small images lose it (measured 2026-12-05, bench/results
     * 2026-12-05-winograd.md: from 2048 pixels on F(4,3) beat direct conv, below it mostly not).
     */
    static final int MIN_PIXELS = 2048;
    /** Fewest input and output channels for auto mode: the tile transforms cost per channel, the GEMMs per pair. */
    static final int MIN_CHANNELS = 64;

    private ConvAlgorithm() {
    }

    /**
     * The Winograd tiles to run this conv (or its data gradient, with the channel counts swapped) with, or null
     * for direct convolution.
     */
    static WinogradTiles winogradTiles(CpuConv.Geometry g, int batch, int inChannels, int outChannels) {
        if (!eligible(g)) {
            return null;
        }
        return switch (mode()) {
            case "direct" -> null;
            case "f23" -> WinogradTiles.F2;
            case "f43" -> WinogradTiles.F4;
            case "winograd" -> WinogradTiles.F4;
            case "auto" -> worthIt(g, batch, inChannels, outChannels) ? WinogradTiles.F4 : null;
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

    /**
     * Whether F(4,3) measured faster than direct convolution on shapes like this. F(2,3) is never chosen
     * automatically: where it beat F(4,3) (16×16 at 1280 channels) it did not reliably beat direct conv.
     */
    private static boolean worthIt(CpuConv.Geometry g, int batch, int inChannels, int outChannels) {
        return (long) batch * g.h() * g.w() >= MIN_PIXELS && inChannels >= MIN_CHANNELS && outChannels >= MIN_CHANNELS;
    }
}
