/**
 * Images in and out of the pipelines.
 *
 * <p>{@link sdj.image.Images} loads files (ImageIO), converts to and from {@code [B,3,H,W]} tensors
 * in [−1, 1] with CompVis's exact (truncating) uint8 conversion, resizes (Lanczos-3), crops, flips,
 * and turns inpainting masks (white = repaint) into latent-sized 0/1 tensors.
 * {@link sdj.image.PngWriter} is our own deterministic, atomic PNG encoder with text chunks
 * (AUTOMATIC1111 keeps generation settings under the {@code parameters} keyword);
 * {@link sdj.image.PngText} reads those chunks back, checking every chunk's CRC.
 */
package sdj.image;
