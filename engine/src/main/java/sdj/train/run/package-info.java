/**
 * The shared fine-tuning loop: a {@link sdj.train.run.TrainConfig} (diffusers' argument names and
 * defaults), the {@link sdj.train.run.Trainer} that runs optimizer steps over the DreamBooth data,
 * atomic training checkpoints with exact resume, the step log, and the export of the trained model.
 */
package sdj.train.run;
