package sdj.io;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import sdj.tensor.DType;
import sdj.tensor.Shape;
import sdj.tensor.Storage;
import sdj.tensor.Tensor;

/**
 * A PyTorch zip checkpoint ({@code torch.save} since 1.6): {@code <archive>/data.pkl} is a pickle of
 * the saved object whose tensors point, by persistent id, at {@code <archive>/data/<key>} entries.
 * Tensors are zero-copy views of the mapped file; the rest of the tree is plain Java values (see
 * {@link PickleReader}). Only an allow-list of globals is honoured, so loading runs no code.
 */
public final class TorchCheckpoint {
    /** data.pkl of sd-v1-4 is about 100 kB; anything near this cap is not a checkpoint we want to parse. */
    static final long MAX_PICKLE_BYTES = 512L << 20;

    private final String source;
    private final String archiveName;
    private final Object root;

    private TorchCheckpoint(String source, String archiveName, Object root) {
        this.source = source;
        this.archiveName = archiveName;
        this.root = root;
    }

    /** Maps and indexes the checkpoint; tensor data is not read until used. */
    public static TorchCheckpoint open(Path path) throws IOException {
        return read(MappedFile.map(path), path.toString());
    }

    /** Reads a checkpoint held in {@code file}; {@code source} names it in error messages. */
    public static TorchCheckpoint read(MemorySegment file, String source) throws CheckpointException {
        checkMagic(file, source);
        ZipArchive zip = ZipArchive.read(file, source);
        String prefix = archivePrefix(zip, source);
        ZipArchive.Entry byteorder = zip.entry(prefix + "/byteorder");
        if (byteorder != null) {
            String order = new String(zip.verifiedData(byteorder).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.US_ASCII).trim();
            if (!order.equals("little")) {
                throw new CheckpointException(source + ": tensors are stored in '" + order + "' byte order; sdj reads only "
                        + "little-endian checkpoints, re-save the file on a little-endian machine");
            }
        }
        ZipArchive.Entry pkl = zip.entry(prefix + "/data.pkl");
        if (pkl.size() > MAX_PICKLE_BYTES) {
            throw new CheckpointException(source + ": its data.pkl is " + pkl.size() + " bytes, too large for a checkpoint");
        }
        byte[] pickle = zip.verifiedData(pkl).toArray(ValueLayout.JAVA_BYTE);
        Object root = PickleReader.read(pickle, source, new TorchResolver(zip, prefix, source));
        return new TorchCheckpoint(source, prefix, root);
    }

    /** The whole unpickled object: usually a Map such as {"state_dict": {...}, "global_step": 470000}. */
    public Object root() {
        return root;
    }

    /** The archive's top folder inside the zip (PyTorch names it after the file, or "archive"). */
    public String archiveName() {
        return archiveName;
    }

    public String source() {
        return source;
    }

    /**
     * The model weights: the "state_dict" entry when the root has one, else the root's own tensor
     * entries. Non-tensor values are skipped.
     */
    public LinkedHashMap<String, Tensor> stateDict() throws CheckpointException {
        if (!(root instanceof Map<?, ?> top)) {
            throw new CheckpointException(source + ": holds " + PickleReader.describe(root)
                    + ", not a dict of tensors; it is not a model checkpoint");
        }
        Object inner = top.get("state_dict");
        Map<?, ?> dict = inner instanceof Map<?, ?> m ? m : top;
        LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : dict.entrySet()) {
            if (e.getKey() instanceof String k && e.getValue() instanceof Tensor t) {
                out.put(k, t);
            }
        }
        return out;
    }

    private static void checkMagic(MemorySegment file, String source) throws CheckpointException {
        if (file.byteSize() >= 2 && (file.get(ValueLayout.JAVA_BYTE, 0) & 0xff) == 0x80) { // pickle PROTO opcode
            throw new CheckpointException(source + ": legacy torch.save format (a bare pickle from torch<1.6), which sdj "
                    + "does not read; re-save it with torch>=1.6 (torch.save(torch.load(f), f2)) or convert it to .safetensors");
        }
        if (file.byteSize() < 4 || file.get(ValueLayout.JAVA_INT_UNALIGNED, 0) != Integer.reverseBytes(0x504b0304)) {
            throw new CheckpointException(source + ": not a PyTorch checkpoint (no zip header); pass a .ckpt/.pt saved by "
                    + "torch.save or a .safetensors file");
        }
    }

    /** The folder holding data.pkl: the one top-level folder PyTorch writes everything under. */
    private static String archivePrefix(ZipArchive zip, String source) throws CheckpointException {
        String found = null;
        for (String name : zip.entries().keySet()) {
            int slash = name.indexOf('/');
            if (slash > 0 && name.substring(slash).equals("/data.pkl")) {
                if (found != null) {
                    throw new CheckpointException(source + ": holds several data.pkl files (" + found + ", " + name
                            + "); it is not a single torch.save checkpoint");
                }
                found = name.substring(0, slash);
            }
        }
        if (found == null) {
            throw new CheckpointException(source + ": a zip without an <archive>/data.pkl entry, so not a PyTorch "
                    + "checkpoint; pass a file saved by torch.save or a .safetensors file");
        }
        return found;
    }

    /** The allow-list: what a checkpoint pickle may import, and the Java versions of the rebuild functions. */
    private static final class TorchResolver implements PickleReader.Resolver {
        private final ZipArchive zip;
        private final String prefix;
        private final String source;
        private final Map<String, Storage> storages = new HashMap<>();

        TorchResolver(ZipArchive zip, String prefix, String source) {
            this.zip = zip;
            this.prefix = prefix;
            this.source = source;
        }

        /** A storage class such as torch.FloatStorage: it only names the element type. */
        record StorageType(String name, DType dtype) {
        }

        @Override
        public Object global(String module, String name) {
            String full = module + "." + name;
            return switch (full) {
                case "torch._utils._rebuild_tensor_v2" -> (PickleReader.Callable) this::rebuildTensor;
                case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state" ->
                        (PickleReader.Callable) args -> arg(args, 0, Tensor.class, "_rebuild_parameter");
                case "collections.OrderedDict" -> (PickleReader.Callable) this::orderedDict;
                // Lightning stores its checkpoint callback's class as a dict key; we read it as a name only.
                case "pytorch_lightning.callbacks.model_checkpoint.ModelCheckpoint",
                        "lightning.pytorch.callbacks.model_checkpoint.ModelCheckpoint" -> new PickleReader.Global(module, name);
                default -> module.equals("torch") ? storageType(name) : null;
            };
        }

        private static StorageType storageType(String name) {
            DType d = switch (name) {
                case "FloatStorage" -> DType.F32;
                case "HalfStorage" -> DType.F16;
                case "BFloat16Storage" -> DType.BF16;
                case "DoubleStorage" -> DType.F64;
                case "LongStorage" -> DType.I64;
                case "IntStorage" -> DType.I32;
                case "ShortStorage" -> DType.I16;
                case "CharStorage" -> DType.I8;
                case "ByteStorage", "UntypedStorage" -> DType.U8;
                case "BoolStorage" -> DType.BOOL;
                default -> null;
            };
            return d == null ? null : new StorageType(name, d);
        }

        private Object orderedDict(List<Object> args) throws CheckpointException {
            if (!args.isEmpty()) {
                throw new CheckpointException(source + ": the pickle builds an OrderedDict from arguments, which "
                        + "torch.save never writes; the checkpoint is corrupted");
            }
            return new LinkedHashMap<>();
        }

        /** Persistent id ('storage', StorageType, key, location, numel) → the mapped bytes of data/key. */
        @Override
        public Object persistentLoad(Object pid) throws CheckpointException {
            if (!(pid instanceof List<?> p) || p.size() != 5 || !"storage".equals(p.get(0))
                    || !(p.get(1) instanceof StorageType type) || !(p.get(2) instanceof String key)
                    || !(p.get(4) instanceof Long numel)) {
                throw new CheckpointException(source + ": the pickle names a storage in a form sdj does not know; the "
                        + "checkpoint is corrupted or from an unsupported torch version");
            }
            Storage cached = storages.get(key);
            if (cached != null) {
                if (cached.dtype() != type.dtype()) {
                    throw new CheckpointException(source + ": storage '" + key + "' is used both as " + cached.dtype()
                            + " and as " + type.dtype() + "; the checkpoint is corrupted");
                }
                return cached;
            }
            ZipArchive.Entry e = zip.entry(prefix + "/data/" + key);
            if (e == null) {
                throw new CheckpointException(source + ": tensor storage '" + prefix + "/data/" + key
                        + "' is missing from the archive; the file is truncated or corrupted");
            }
            long bytes = numel < 0 || numel > Long.MAX_VALUE / 8 ? -1 : numel * type.dtype().byteSize;
            if (bytes < 0 || e.size() < bytes) {
                throw new CheckpointException(source + ": tensor storage '" + e.name() + "' holds " + e.size()
                        + " bytes but should hold " + numel + " " + type.dtype() + " elements; the file is truncated or corrupted");
            }
            Storage s = Storage.ofSegment(zip.data(e).asSlice(0, bytes), type.dtype());
            storages.put(key, s);
            return s;
        }

        /** _rebuild_tensor_v2(storage, offset, size, stride, requires_grad, backward_hooks[, metadata]). */
        private Object rebuildTensor(List<Object> args) throws CheckpointException {
            if (args.size() < 6 || args.size() > 7) {
                throw new CheckpointException(source + ": _rebuild_tensor_v2 called with " + args.size()
                        + " arguments instead of 6 or 7; the checkpoint is corrupted");
            }
            Storage storage = arg(args, 0, Storage.class, "_rebuild_tensor_v2");
            long offset = arg(args, 1, Long.class, "_rebuild_tensor_v2");
            int[] size = ints(arg(args, 2, List.class, "_rebuild_tensor_v2"), "size");
            int[] stride = ints(arg(args, 3, List.class, "_rebuild_tensor_v2"), "stride");
            if (size.length != stride.length || offset < 0) {
                throw new CheckpointException(source + ": a tensor has size " + Shape.str(size) + ", stride "
                        + Shape.str(stride) + " and offset " + offset + ", which do not match; the checkpoint is corrupted");
            }
            try {
                long numel = 1;
                for (int i = 0; i < size.length; i++) {
                    numel = Math.multiplyExact(numel, size[i]);
                    Math.addExact(offset, Math.multiplyExact((long) Math.max(size[i] - 1, 0), stride[i]));
                }
            } catch (ArithmeticException ex) {
                throw new CheckpointException(source + ": a tensor of size " + Shape.str(size) + " is impossibly large; "
                        + "the checkpoint is corrupted");
            }
            // requires_grad and hooks are training state; weights load as plain tensors.
            try {
                return new Tensor(storage, size, stride, offset);
            } catch (IllegalArgumentException ex) {
                throw new CheckpointException(source + ": a tensor does not fit its storage (" + ex.getMessage()
                        + "); the checkpoint is corrupted");
            }
        }

        private int[] ints(List<?> list, String what) throws CheckpointException {
            if (list.size() > 64) {
                throw new CheckpointException(source + ": a tensor " + what + " has " + list.size() + " dimensions");
            }
            int[] out = new int[list.size()];
            for (int i = 0; i < out.length; i++) {
                if (!(list.get(i) instanceof Long v) || v < 0 || v > Integer.MAX_VALUE) {
                    throw new CheckpointException(source + ": a tensor " + what + " holds " + list.get(i)
                            + ", not a dimension sdj supports; the checkpoint is corrupted");
                }
                out[i] = (int) (long) v;
            }
            return out;
        }

        private <T> T arg(List<Object> args, int i, Class<T> type, String fn) throws CheckpointException {
            Object v = i < args.size() ? args.get(i) : null;
            if (!type.isInstance(v)) {
                throw new CheckpointException(source + ": argument " + i + " of " + fn + " is " + PickleReader.describe(v)
                        + " instead of a " + type.getSimpleName() + "; the checkpoint is corrupted");
            }
            return type.cast(v);
        }
    }
}
