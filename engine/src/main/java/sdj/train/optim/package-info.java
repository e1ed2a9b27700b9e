/**
 * Optimizers for fine-tuning with torch 1.13's semantics: {@link sdj.train.optim.AdamW} (the per-element update is
 * the {@code sdj.tensor.Backend#adamwStep} primitive of each device), global-norm gradient clipping
 * ({@link sdj.train.optim.GradClip}) and diffusers' learning-rate schedules ({@link sdj.train.optim.LrSchedule}).
 */
package sdj.train.optim;
