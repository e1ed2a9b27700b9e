/**
 * The synthetic captioned dataset of the embedded model (issue 18) and the classifier that scores
 * generated images against it.
 *
 * <p>{@link sdj.shapes.ShapesDataset} draws seeded samples ({@link sdj.shapes.ShapeSample}: a
 * {@link sdj.shapes.Shape} of one {@link sdj.shapes.Colour} on a background of another) and writes
 * them as PNGs plus a Hugging Face imagefolder {@code metadata.jsonl};
 * {@link sdj.shapes.ShapeRenderer} draws one sample, anti-aliased by supersampling.
 * {@link sdj.shapes.ShapeClassifier} reads the three attributes back from any RGB image (blurred or
 * noisy ones included) and {@link sdj.shapes.ShapeScores} counts how often they match.
 */
package sdj.shapes;
