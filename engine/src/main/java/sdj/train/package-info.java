/**
 * Fine-tuning: the diffusion training objective (noise schedule, posterior sampling of latents, offset
 * noise, min-SNR weighting and prior preservation), one training step's loss, and reference checks
 * against the sd-tiny-train tensors.
 */
package sdj.train;
