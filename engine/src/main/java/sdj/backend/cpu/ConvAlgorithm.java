package sdj.backend.cpu;

import java.util.Locale;

/**
 * Chooses how the CPU runs a convolution: direct (im2col + GEMM) or Winograd, for A/B runs set with
 * {@code -Dsdj.conv=direct|winograd|f23|f43|auto} or the environment variable {@code SDJ_CONV} (the property
 * wins). {@code auto} (the default) takes Winograd only on the shapes where it measured faster;
 * {@code winograd} takes it for every eligible conv (3×3, stride 1, padding 1 on all sides), F(4,3) from
 * {@link #F4_MIN_PIXELS} output pixels on and F(2,3) below; {@code f23} and {@code f43} force the tile size.
 */
final class ConvAlgorithm {
    /*
     * Measured 2026-12-05 on the 2-core Zen 5 (bench/results/2026-12-05-winograd.md), 1 and 2 threads: F(4,3)
     * beats direct conv from 1024 output pixels over the batch (32×32 at batch 1) at 128–1280 channels, by
     * 1.3–3.4×; at 512 pixels (16×16, batch 2) F(2,3) is level to 1.9× faster, F(4,3) not; below that the
     * filter transform (α²·O·C per call whatever the image size) loses it. Too few channels and the tile
     * transforms (per channel) outweigh the GEMMs (per channel pair).
     */
    static final int F4_MIN_PIXELS = 1024;
    static final int F2_MIN_PIXELS = 512;
    static final int MIN_CHANNELS = 128;

    private ConvAlgorithm() {
    }

    /**
     * The Winograd tiles to run this conv (or its data gradient, with the channel counts swapped) with, or null
     * for direct convolution.
     */
    static WinogradTiles winogradTiles(CpuConv.Geometry g, int batch, int inChannels, int outChannels) {
        return winogradTiles(g, batch, inChannels, outChannels, false);
    }

    /**
     * As above for a forward or (with {@code gradient}) a data or weight gradient: auto mode keeps the gradients
     * of F(2,3)-sized shapes on direct conv (at 2 × 640 × 16² their Winograd backward measured 2× slower).
     */
    static WinogradTiles winogradTiles(CpuConv.Geometry g, int batch, int inChannels, int outChannels,
            boolean gradient) {
        if (!eligible(g)) {
            return null;
        }
        return switch (mode()) {
            case "direct" -> null;
            case "f23" -> WinogradTiles.F2;
            case "f43" -> WinogradTiles.F4;
            case "winograd" -> pixels(g, batch) >= F4_MIN_PIXELS ? WinogradTiles.F4 : WinogradTiles.F2;
            case "auto" -> {
                WinogradTiles tiles = auto(pixels(g, batch), inChannels, outChannels);
                yield gradient && tiles != WinogradTiles.F4 ? null : tiles;
            }
            default -> throw new IllegalArgumentException("sdj.conv / SDJ_CONV is '" + mode()
                    + "': use direct, winograd, f23, f43 or auto");
        };
    }

    /**
     * Whether a forward conv runs on {@link FewOutputConv}: 3×3 stride-1 pad-1 with at most its few outputs, in
     * auto mode ({@code direct} keeps im2col + GEMM for A/B runs).
     */
    static boolean fewOutputs(CpuConv.Geometry g, int outChannels) {
        return eligible(g) && outChannels <= FewOutputConv.MAX_OUTPUTS && mode().equals("auto");
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

    /** The tiles that measured faster than direct conv on shapes like this, or null where none did. */
    private static WinogradTiles auto(long pixels, int inChannels, int outChannels) {
        if (inChannels < MIN_CHANNELS || outChannels < MIN_CHANNELS) {
            return null;
        }
        return pixels >= F4_MIN_PIXELS ? WinogradTiles.F4 : pixels >= F2_MIN_PIXELS ? WinogradTiles.F2 : null;
    }

    private static long pixels(CpuConv.Geometry g, int batch) {
        return (long) batch * g.h() * g.w();
    }
}
