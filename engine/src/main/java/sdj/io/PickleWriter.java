package sdj.io;

import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import sdj.tensor.DType;
import sdj.tensor.Shape;
import sdj.tensor.Tensor;

/**
 * Pickles plain values (dict, list, tuple as Object[], str, int, float, bool, None) and tensors in
 * protocol 2, the form {@code torch.save} writes: a tensor becomes
 * {@code torch._utils._rebuild_tensor_v2(<persistent storage id>, 0, size, stride, False, OrderedDict())}.
 */
final class PickleWriter {
    /** Where tensor data goes: returns the storage key under which the tensor's bytes will be stored. */
    interface TensorSink {
        String add(Tensor t);
    }

    private static final int MAX_DEPTH = 1000;
    private static final int BATCH = 1000; // items per SETITEMS/APPENDS, as CPython batches them

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final TensorSink sink;

    private PickleWriter(TensorSink sink) {
        this.sink = sink;
    }

    static byte[] write(Object root, TensorSink sink) {
        PickleWriter w = new PickleWriter(sink);
        w.op(0x80);
        w.op(2);
        w.value(root, 0);
        w.op('.');
        return w.out.toByteArray();
    }

    static String storageClass(DType d) {
        return switch (d) {
            case F32 -> "FloatStorage";
            case F16 -> "HalfStorage";
            case BF16 -> "BFloat16Storage";
            case F64 -> "DoubleStorage";
            case I64 -> "LongStorage";
            case I32 -> "IntStorage";
            case I16 -> "ShortStorage";
            case I8 -> "CharStorage";
            case U8 -> "ByteStorage";
            case BOOL -> "BoolStorage";
        };
    }

    private void value(Object v, int depth) {
        if (depth > MAX_DEPTH) {
            throw new IllegalArgumentException("value nested deeper than " + MAX_DEPTH + " levels (a cycle?)");
        }
        switch (v) {
            case null -> op('N');
            case Boolean b -> op(b ? 0x88 : 0x89);
            case Integer i -> integer(i);
            case Long l -> integer(l);
            case Short s -> integer(s);
            case Byte b -> integer(b);
            case BigInteger b -> bigInteger(b);
            case Double d -> floating(d);
            case Float f -> floating(f);
            case String s -> string(s);
            case Tensor t -> tensor(t);
            case PickleReader.Global g -> global(g.module(), g.name());
            case Map<?, ?> m -> dict(m, depth);
            case List<?> l -> list(l, depth);
            case Object[] tuple -> tuple(tuple, depth);
            default -> throw new IllegalArgumentException("cannot save a " + v.getClass().getName() + " in a checkpoint");
        }
    }

    private void dict(Map<?, ?> m, int depth) {
        op('}');
        int n = 0;
        for (Map.Entry<?, ?> e : m.entrySet()) {
            if (n % BATCH == 0) {
                if (n > 0) {
                    op('u');
                }
                op('(');
            }
            value(e.getKey(), depth + 1);
            value(e.getValue(), depth + 1);
            n++;
        }
        if (n > 0) {
            op('u');
        }
    }

    private void list(List<?> l, int depth) {
        op(']');
        int n = 0;
        for (Object o : l) {
            if (n % BATCH == 0) {
                if (n > 0) {
                    op('e');
                }
                op('(');
            }
            value(o, depth + 1);
            n++;
        }
        if (n > 0) {
            op('e');
        }
    }

    private void tuple(Object[] items, int depth) {
        if (items.length == 0) {
            op(')');
            return;
        }
        if (items.length > 3) {
            op('(');
        }
        for (Object o : items) {
            value(o, depth + 1);
        }
        op(items.length > 3 ? 't' : 0x84 + items.length); // TUPLE1..3 are 0x85..0x87
    }

    private void tensor(Tensor t) {
        String key = sink.add(t);
        int[] shape = t.shape();
        global("torch._utils", "_rebuild_tensor_v2");
        op('(');
        tuple(new Object[] {"storage", new PickleReader.Global("torch", storageClass(t.dtype())), key, "cpu", t.numel()}, 0);
        op('Q'); // BINPERSID
        integer(0);
        tuple(boxed(shape), 0);
        tuple(boxed(Shape.contiguousStrides(shape)), 0);
        op(0x89); // requires_grad False
        global("collections", "OrderedDict");
        op(')');
        op('R');
        op('t');
        op('R');
    }

    private static Object[] boxed(int[] a) {
        Object[] o = new Object[a.length];
        for (int i = 0; i < a.length; i++) {
            o[i] = (long) a[i];
        }
        return o;
    }

    private void global(String module, String name) {
        op('c');
        bytes((module + "\n" + name + "\n").getBytes(StandardCharsets.UTF_8));
    }

    private void integer(long v) {
        if (v >= 0 && v < 256) {
            op('K');
            op((int) v);
        } else if (v >= 0 && v < 65536) {
            op('M');
            le(v, 2);
        } else if (v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE) {
            op('J');
            le(v, 4);
        } else {
            bigInteger(BigInteger.valueOf(v));
        }
    }

    private void bigInteger(BigInteger b) {
        byte[] be = b.toByteArray(); // minimal two's complement, big-endian
        if (be.length > 255) {
            throw new IllegalArgumentException("integer too large to save: " + b.bitLength() + " bits");
        }
        op(0x8a); // LONG1
        op(be.length);
        for (int i = be.length - 1; i >= 0; i--) {
            op(be[i] & 0xff);
        }
    }

    private void floating(double d) {
        op('G');
        long bits = Double.doubleToRawLongBits(d);
        for (int i = 7; i >= 0; i--) {
            op((int) (bits >>> (8 * i)) & 0xff); // big-endian
        }
    }

    private void string(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        op('X');
        le(b.length, 4);
        bytes(b);
    }

    private void le(long v, int n) {
        for (int i = 0; i < n; i++) {
            op((int) (v >>> (8 * i)) & 0xff);
        }
    }

    private void op(int b) {
        out.write(b);
    }

    private void bytes(byte[] b) {
        out.write(b, 0, b.length);
    }
}
