/**
 * Training data: image folders, captions and prior-preservation class images turned into batches,
 * as diffusers' DreamBooth dataset does (see {@link sdj.train.data.DreamBoothData}).
 *
 * <p>Pipeline per image: decode (ImageIO + TwelveMonkeys WebP/JPEG) → EXIF orientation (JPEG) → RGB →
 * shorter side to the resolution with PIL's anti-aliased bilinear filter → center or seeded random
 * square crop → optional seeded flip → float32(byte)/127.5 − 1. Order and augmentation derive from the
 * seed and the {@link sdj.train.data.DataPosition} alone, so a resumed run sees the same batches.
 */
package sdj.train.data;
