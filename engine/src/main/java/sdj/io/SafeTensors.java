package sdj.io;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import sdj.tensor.DType;
import sdj.tensor.Shape;
import sdj.tensor.Storage;
import sdj.tensor.Tensor;

/**
 * The safetensors format: an 8-byte little-endian header length, a JSON header mapping each tensor
 * name to {dtype, shape, data_offsets} (plus an optional "__metadata__" of string pairs), then the
 * raw little-endian data. Reading maps the file and validates the header fully; tensors are views.
 */
public final class SafeTensors {
    /** The reference implementation's cap on the header size. */
    static final long MAX_HEADER = 100_000_000;
    static final String METADATA = "__metadata__";

    private final LinkedHashMap<String, Tensor> tensors;
    private final Map<String, String> metadata;

    private SafeTensors(LinkedHashMap<String, Tensor> tensors, Map<String, String> metadata) {
        this.tensors = tensors;
        this.metadata = metadata;
    }

    public static SafeTensors open(Path path) throws IOException {
        return read(MappedFile.map(path), path.toString());
    }

    /** Tensors in header order, each a view of the mapped file. */
    public LinkedHashMap<String, Tensor> tensors() {
        return tensors;
    }

    /** The "__metadata__" strings (empty when the file has none). */
    public Map<String, String> metadata() {
        return metadata;
    }

    // ---------------------------------------------------------------- reading

    public static SafeTensors read(MemorySegment file, String source) throws CheckpointException {
        long size = file.byteSize();
        if (size < 8) {
            throw bad(source, "file of " + size + " bytes is too short for a safetensors header");
        }
        long headerLen = file.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
        if (headerLen < 2 || headerLen > MAX_HEADER || headerLen > size - 8) {
            throw bad(source, "header length " + Long.toUnsignedString(headerLen) + " does not fit the file's " + size + " bytes");
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .decode(file.asSlice(8, headerLen).asByteBuffer()).toString();
        } catch (CharacterCodingException e) {
            throw bad(source, "header is not valid UTF-8");
        }
        Map<String, Object> header;
        try {
            header = Json.parseObject(text);
        } catch (Json.ParseException e) {
            throw bad(source, "header is not valid JSON (" + e.getMessage() + ")");
        }
        MemorySegment data = file.asSlice(8 + headerLen);
        Map<String, String> metadata = metadata(header.get(METADATA), source);
        LinkedHashMap<String, Tensor> tensors = new LinkedHashMap<>();
        List<long[]> ranges = new ArrayList<>();
        for (Map.Entry<String, Object> e : header.entrySet()) {
            if (e.getKey().equals(METADATA)) {
                continue;
            }
            long[] range = new long[2];
            tensors.put(e.getKey(), tensor(e.getKey(), e.getValue(), data, range, source));
            ranges.add(range);
        }
        ranges.sort(Comparator.comparingLong(r -> r[0]));
        for (int i = 1; i < ranges.size(); i++) {
            if (ranges.get(i)[0] < ranges.get(i - 1)[1]) {
                throw bad(source, "two tensors' data_offsets overlap");
            }
        }
        return new SafeTensors(tensors, Collections.unmodifiableMap(metadata));
    }

    private static Tensor tensor(String name, Object spec, MemorySegment data, long[] range, String source)
            throws CheckpointException {
        if (!(spec instanceof Map<?, ?> m) || !(m.get("dtype") instanceof String dt)
                || !(m.get("shape") instanceof List<?> shapeList) || !(m.get("data_offsets") instanceof List<?> offs)
                || offs.size() != 2 || !(offs.get(0) instanceof Long begin) || !(offs.get(1) instanceof Long end)) {
            throw bad(source, "entry '" + name + "' lacks a dtype, shape or data_offsets pair");
        }
        DType dtype = dtype(dt, name, source);
        if (shapeList.size() > 64) {
            throw bad(source, "tensor '" + name + "' has " + shapeList.size() + " dimensions");
        }
        int[] shape = new int[shapeList.size()];
        long numel = 1;
        for (int i = 0; i < shape.length; i++) {
            if (!(shapeList.get(i) instanceof Long d) || d < 0 || d > Integer.MAX_VALUE) {
                throw bad(source, "tensor '" + name + "' has a bad dimension " + shapeList.get(i));
            }
            shape[i] = (int) (long) d;
            numel = numel > 0 && d > Long.MAX_VALUE / 8 / numel ? -1 : numel * d;
            if (numel < 0) {
                throw bad(source, "tensor '" + name + "' has an impossibly large shape");
            }
        }
        if (begin < 0 || end < begin || end > data.byteSize()) {
            throw bad(source, "tensor '" + name + "' has data_offsets [" + begin + ", " + end + "] outside the "
                    + data.byteSize() + " data bytes");
        }
        if (end - begin != numel * dtype.byteSize) {
            throw bad(source, "tensor '" + name + "' of shape " + Shape.str(shape) + " " + dtype + " needs "
                    + numel * dtype.byteSize + " bytes but its data_offsets span " + (end - begin));
        }
        range[0] = begin;
        range[1] = end;
        Storage s = Storage.ofSegment(data.asSlice(begin, end - begin), dtype);
        return new Tensor(s, shape, Shape.contiguousStrides(shape), 0);
    }

    private static Map<String, String> metadata(Object meta, String source) throws CheckpointException {
        Map<String, String> out = new LinkedHashMap<>();
        if (meta == null) {
            return out;
        }
        if (!(meta instanceof Map<?, ?> m)) {
            throw bad(source, "__metadata__ is not an object of strings");
        }
        for (Map.Entry<?, ?> e : m.entrySet()) {
            if (!(e.getValue() instanceof String v)) {
                throw bad(source, "__metadata__ value for '" + e.getKey() + "' is not a string");
            }
            out.put((String) e.getKey(), v);
        }
        return out;
    }

    static DType dtype(String name, String tensor, String source) throws CheckpointException {
        return switch (name) {
            case "F32" -> DType.F32;
            case "F16" -> DType.F16;
            case "BF16" -> DType.BF16;
            case "F64" -> DType.F64;
            case "I64" -> DType.I64;
            case "I32" -> DType.I32;
            case "I16" -> DType.I16;
            case "I8" -> DType.I8;
            case "U8" -> DType.U8;
            case "BOOL" -> DType.BOOL;
            default -> throw bad(source, "tensor '" + tensor + "' has dtype '" + name + "', which sdj does not support");
        };
    }

    /** The header's name for a dtype (same spelling as sdj's enum). */
    static String dtypeName(DType d) {
        return d.name();
    }

    private static CheckpointException bad(String source, String what) {
        return new CheckpointException(source + ": not a valid safetensors file, " + what
                + "; the file is truncated or corrupted, download or copy it again");
    }

    // ---------------------------------------------------------------- writing

    /**
     * Writes {@code tensors} (each contiguous in its own dtype) and optional {@code metadata}. Data is
     * laid out by falling element size, so with the 8-aligned header every tensor is aligned for its dtype.
     */
    public static void write(Path path, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        List<String> order = new ArrayList<>(tensors.keySet());
        order.sort(Comparator.<String>comparingInt(n -> -tensors.get(n).dtype().byteSize).thenComparing(n -> n));
        Map<String, Object> header = new LinkedHashMap<>();
        if (metadata != null && !metadata.isEmpty()) {
            header.put(METADATA, new LinkedHashMap<>(metadata));
        }
        long offset = 0;
        for (String name : order) {
            if (name.equals(METADATA)) {
                throw new CheckpointException(path + ": a tensor cannot be named " + METADATA);
            }
            Tensor t = tensors.get(name);
            long n = TensorBytes.byteSize(t);
            Map<String, Object> spec = new LinkedHashMap<>();
            spec.put("dtype", dtypeName(t.dtype()));
            spec.put("shape", t.shape());
            spec.put("data_offsets", List.of(offset, offset + n));
            header.put(name, spec);
            offset += n;
        }
        byte[] json = Json.write(header).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8; // pad with spaces, as the reference writer does
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(json);
        while (head.hasRemaining()) {
            head.put((byte) ' ');
        }
        head.flip();
        AtomicFile.write(path, ch -> {
            while (head.hasRemaining()) {
                ch.write(head);
            }
            for (String name : order) {
                TensorBytes.write(tensors.get(name), ch);
            }
        });
    }
}
