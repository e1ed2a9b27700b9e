/**
 * LoRA files at inference: {@link sdj.sd.lora.LoraFile} reads kohya, diffusers, PEFT and old
 * attention-processor files; {@link sdj.sd.lora.LoraMerge} folds them into a checkpoint's state dict
 * under LDM names (via {@link sdj.sd.DiffusersNames} and {@link sdj.sd.KohyaNames}) before the model is
 * built, or into a built model ({@link sdj.sd.lora.LoraRequest#applyTo}). Run-time adapters for training are
 * {@link sdj.nn.LoraAdapter}.
 */
package sdj.sd.lora;
