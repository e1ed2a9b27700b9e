/**
 * Optimizers for fine-tuning with torch 1.13's semantics: {@link sdj.train.optim.AdamW} (the per-element update is
 * the {@code sdj.tensor.Backend#adamwStep} primitive of each device), global-norm gradient clipping
 * ({@link sdj.train.optim.GradClip}), diffusers' learning-rate schedules ({@link sdj.train.optim.LrSchedule})
 * and, on the CPU, bitsandbytes' block-wise 8-bit AdamW ({@link sdj.train.optim.AdamW8bit}).
 */
package sdj.train.optim;
