/**
 * Checkpoint and tensor-file I/O.
 *
 * <p>Everyone loads weights through {@link sdj.io.StateDicts#load}: it accepts PyTorch zip checkpoints
 * ({@code .ckpt}/{@code .pt}, read by {@link sdj.io.TorchCheckpoint} with its own zip reader and a
 * pickle interpreter that executes nothing and honours only an allow-list of globals) and
 * {@code .safetensors} ({@link sdj.io.SafeTensors}). Tensors are zero-copy views of the memory-mapped
 * file. {@link sdj.io.TorchCheckpointWriter} and {@link sdj.io.SafeTensors#write} write files PyTorch
 * loads, atomically. {@link sdj.io.Json} reads and writes strict JSON (headers, configs, vocab.json) through one
 * Jackson mapper with limits for untrusted input.
 *
 * <p>Non-tensor pickle values are plain Java: dict → LinkedHashMap, list → ArrayList, tuple →
 * unmodifiable List, int → Long (BigInteger if wider), float → Double, str → String, None → null.
 * When writing, a Java {@code Object[]} becomes a tuple and any List a list.
 *
 * <p>Longer checks, not run by default:
 * <ul>
 *   <li>{@code mvn test -pl engine -Dtest=FuzzTest -Dsdj.fuzz.iterations=100000 -Dsdj.fuzz.seed=7}
 *   <li>{@code mvn test -pl engine -Dtest=BigCheckpointTest -Dsdj.bigfile=true -Dsdj.bigfile.keep=true}
 *       writes a 4.6 GB zip64 checkpoint to /tmp/sdj-big.ckpt; then {@code ./sdj inspect /tmp/sdj-big.ckpt}.
 * </ul>
 */
package sdj.io;
