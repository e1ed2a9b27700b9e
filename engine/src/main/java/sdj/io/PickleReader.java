package sdj.io;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A pickle (protocols 2 to 5) interpreter that builds plain Java values and executes nothing.
 * Dicts become LinkedHashMap, lists ArrayList, tuples unmodifiable Lists, ints Long (BigInteger when
 * wider), floats Double, str String, bytes byte[], None null. The only things a pickle can import
 * are what the {@link Resolver} hands out for its allow-list; REDUCE/NEWOBJ may only call the
 * {@link Callable}s among them. Sizes are checked against the remaining input before allocating,
 * and stack and memo are capped, so a hostile pickle fails with a {@link CheckpointException}.
 */
final class PickleReader {
    /** What a pickle may import and how persistent ids (tensor storages) resolve. */
    interface Resolver {
        /** The value GLOBAL/STACK_GLOBAL pushes for module.name, or null when it is not allowed. */
        Object global(String module, String name);

        Object persistentLoad(Object pid) throws CheckpointException;
    }

    /** An allowed function a pickle may REDUCE: a Java implementation of what the Python one builds. */
    interface Callable {
        Object call(List<Object> args) throws CheckpointException;
    }

    /** An allowed global read as an opaque name (e.g. a Lightning callback class used as a dict key). */
    record Global(String module, String name) {
        @Override
        public String toString() {
            return module + "." + name;
        }
    }

    static final int MAX_STACK = 1 << 22;
    static final int MAX_MEMO = 1 << 22;

    private static final Object MARK = new Object();

    private final byte[] in;
    private final String source;
    private final Resolver resolver;
    private int pos;
    private final ArrayList<Object> stack = new ArrayList<>();
    private final ArrayList<Integer> marks = new ArrayList<>();
    private final Map<Long, Object> memo = new HashMap<>();

    private PickleReader(byte[] in, String source, Resolver resolver) {
        this.in = in;
        this.source = source;
        this.resolver = resolver;
    }

    /** Unpickles {@code data}; {@code source} names the file in error messages. */
    static Object read(byte[] data, String source, Resolver resolver) throws CheckpointException {
        PickleReader r = new PickleReader(data, source, resolver);
        try {
            return r.run();
        } catch (CheckpointException e) {
            throw e;
        } catch (RuntimeException e) {
            // Type confusion in a malformed pickle (say, APPEND onto a string) ends up here.
            throw r.bad("inconsistent pickle near byte " + r.pos + " (" + e.getMessage() + ")");
        }
    }

    private CheckpointException bad(String what) {
        return new CheckpointException(source + ": " + what + "; the checkpoint is corrupted or not a PyTorch file");
    }

    private Object run() throws CheckpointException {
        while (true) {
            int op = u8();
            switch (op) {
                case 0x80 -> { // PROTO
                    int v = u8();
                    if (v > 5) {
                        throw bad("pickle protocol " + v + " is newer than the supported 2 to 5");
                    }
                }
                case 0x95 -> take(8); // FRAME: only a read-ahead hint
                case '.' -> { // STOP
                    if (stack.size() != 1 || !marks.isEmpty()) {
                        throw bad("pickle ends with " + stack.size() + " values on its stack");
                    }
                    return pop();
                }
                case '(' -> {
                    marks.add(stack.size());
                    push(MARK);
                }
                case '0' -> pop();
                case '1' -> popMark();
                case '2' -> push(peek());
                case '}' -> push(new LinkedHashMap<>());
                case ']' -> push(new ArrayList<>());
                case ')' -> push(tuple(List.of()));
                case 't' -> push(tuple(popMark()));
                case 0x85 -> push(tuple(popN(1)));
                case 0x86 -> push(tuple(popN(2)));
                case 0x87 -> push(tuple(popN(3)));
                case 'l' -> push(new ArrayList<>(popMark()));
                case 'd' -> {
                    Map<Object, Object> m = new LinkedHashMap<>();
                    putPairs(m, popMark());
                    push(m);
                }
                case 'a' -> {
                    Object v = pop();
                    list(peek()).add(v);
                }
                case 'e' -> {
                    List<Object> items = popMark();
                    list(peek()).addAll(items);
                }
                case 's' -> {
                    Object v = pop();
                    Object k = pop();
                    putPairs(dict(peek()), Arrays.asList(k, v));
                }
                case 'u' -> {
                    List<Object> items = popMark();
                    putPairs(dict(peek()), items);
                }
                case 0x8f -> push(new LinkedHashSet<>()); // EMPTY_SET
                case 0x90 -> { // ADDITEMS
                    List<Object> items = popMark();
                    Set<Object> set = set(peek());
                    for (Object o : items) {
                        set.add(key(o));
                    }
                }
                case 0x91 -> { // FROZENSET
                    Set<Object> set = new LinkedHashSet<>();
                    for (Object o : popMark()) {
                        set.add(key(o));
                    }
                    push(Collections.unmodifiableSet(set));
                }
                case 'X' -> push(utf8(len32()));
                case 0x8d -> push(utf8(len64()));
                case 0x8c -> push(utf8(u8()));
                case 'T' -> push(latin1(len32()));
                case 'U' -> push(latin1(u8()));
                case 'B' -> push(take(len32()));
                case 'C' -> push(take(u8()));
                case 0x8e -> push(take(len64()));
                case 0x96 -> push(take(len64())); // BYTEARRAY8
                case 'J' -> push((long) le(4, true));
                case 'K' -> push((long) u8());
                case 'M' -> push(le(2, false));
                case 0x8a -> push(longN(u8()));
                case 0x8b -> push(longN(len32()));
                case 'G' -> push(ByteBuffer.wrap(take(8)).order(ByteOrder.BIG_ENDIAN).getDouble());
                case 'N' -> push(null);
                case 0x88 -> push(Boolean.TRUE);
                case 0x89 -> push(Boolean.FALSE);
                case 'q' -> memoize(u8());
                case 'r' -> memoize(le(4, false));
                case 0x94 -> memoize(memo.size());
                case 'h' -> push(memoGet(u8()));
                case 'j' -> push(memoGet(le(4, false)));
                case 'c' -> {
                    String module = line();
                    String name = line();
                    push(global(module, name));
                }
                case 0x93 -> { // STACK_GLOBAL
                    Object name = pop();
                    Object module = pop();
                    if (!(module instanceof String m) || !(name instanceof String n)) {
                        throw bad("STACK_GLOBAL without a module and a name");
                    }
                    push(global(m, n));
                }
                case 'R' -> {
                    List<Object> args = list(pop());
                    Object fn = pop();
                    push(call(fn, args));
                }
                case 0x81 -> { // NEWOBJ: cls.__new__(cls, *args), allowed only for the same callables
                    List<Object> args = list(pop());
                    Object cls = pop();
                    push(call(cls, args));
                }
                case 'b' -> build(pop(), peek());
                case 'Q' -> push(resolver.persistentLoad(pop()));
                default -> throw bad(String.format("pickle opcode 0x%02x at byte %d is not supported", op, pos - 1));
            }
        }
    }

    // ---------------------------------------------------------------- objects

    private Object global(String module, String name) throws CheckpointException {
        Object g = resolver.global(module, name);
        if (g == null) {
            throw new CheckpointException(source + ": refusing to load, the pickle imports '" + module + "." + name
                    + "', which is not on sdj's allow-list of checkpoint contents (tensors and plain values), so the "
                    + "file may run code; if you trust it, re-save just its state_dict as .safetensors");
        }
        return g;
    }

    private Object call(Object fn, List<Object> args) throws CheckpointException {
        if (fn instanceof Callable c) {
            return c.call(args);
        }
        throw bad("the pickle calls " + describe(fn) + ", which is not a function sdj can rebuild");
    }

    /** BUILD sets state on a freshly made object; only dict-like state on dicts is meaningful here. */
    private void build(Object state, Object target) throws CheckpointException {
        if (target instanceof LinkedHashMap<?, ?> && state instanceof Map<?, ?> s) {
            putPairs(dict(target), flatten(s));
            return;
        }
        if (state == null) {
            return;
        }
        throw bad("the pickle sets state on " + describe(target) + ", which sdj does not support");
    }

    private static List<Object> flatten(Map<?, ?> m) {
        List<Object> out = new ArrayList<>();
        for (Map.Entry<?, ?> e : m.entrySet()) {
            out.add(e.getKey());
            out.add(e.getValue());
        }
        return out;
    }

    private void putPairs(Map<Object, Object> m, List<Object> kv) throws CheckpointException {
        if (kv.size() % 2 != 0) {
            throw bad("dict items come in an odd count");
        }
        for (int i = 0; i < kv.size(); i += 2) {
            m.put(key(kv.get(i)), kv.get(i + 1));
        }
    }

    /** Dict keys and set items must be simple values: hashing a container could recurse through cycles. */
    private Object key(Object k) throws CheckpointException {
        if (k == null || k instanceof String || k instanceof Long || k instanceof Double || k instanceof Boolean
                || k instanceof BigInteger || k instanceof Global) {
            return k;
        }
        throw bad("a dict key or set item is a " + describe(k) + ", which sdj does not support");
    }

    private static List<Object> tuple(List<Object> items) {
        return Collections.unmodifiableList(new ArrayList<>(items));
    }

    @SuppressWarnings("unchecked")
    private List<Object> list(Object o) throws CheckpointException {
        if (o instanceof List<?> l) {
            return (List<Object>) l;
        }
        throw bad("expected a list or tuple but found " + describe(o));
    }

    @SuppressWarnings("unchecked")
    private Map<Object, Object> dict(Object o) throws CheckpointException {
        if (o instanceof Map<?, ?> m) {
            return (Map<Object, Object>) m;
        }
        throw bad("expected a dict but found " + describe(o));
    }

    @SuppressWarnings("unchecked")
    private Set<Object> set(Object o) throws CheckpointException {
        if (o instanceof LinkedHashSet<?> s) {
            return (Set<Object>) s;
        }
        throw bad("expected a set but found " + describe(o));
    }

    /** A short type name for messages (never the value: it may be huge or cyclic). */
    static String describe(Object o) {
        if (o == null) {
            return "None";
        }
        if (o instanceof Global g) {
            return g.toString();
        }
        if (o == MARK) {
            return "a MARK";
        }
        return "a " + o.getClass().getSimpleName();
    }

    // ---------------------------------------------------------------- stack and memo

    private void push(Object o) throws CheckpointException {
        if (stack.size() >= MAX_STACK) {
            throw bad("pickle stack grows past " + MAX_STACK + " items");
        }
        stack.add(o);
    }

    private Object pop() throws CheckpointException {
        Object o = peek();
        stack.removeLast();
        return o;
    }

    private Object peek() throws CheckpointException {
        int n = stack.size();
        if (n == 0 || stack.getLast() == MARK) {
            throw bad("pickle stack underflow at byte " + pos);
        }
        return stack.getLast();
    }

    private List<Object> popN(int n) throws CheckpointException {
        Object[] items = new Object[n];
        for (int i = n - 1; i >= 0; i--) {
            items[i] = pop();
        }
        return Arrays.asList(items);
    }

    private List<Object> popMark() throws CheckpointException {
        if (marks.isEmpty()) {
            throw bad("pickle uses a MARK it never set, at byte " + pos);
        }
        int at = marks.removeLast();
        List<Object> items = new ArrayList<>(stack.subList(at + 1, stack.size()));
        stack.subList(at, stack.size()).clear();
        return items;
    }

    private void memoize(long index) throws CheckpointException {
        if (memo.size() >= MAX_MEMO && !memo.containsKey(index)) {
            throw bad("pickle memo grows past " + MAX_MEMO + " entries");
        }
        memo.put(index, peek());
    }

    private Object memoGet(long index) throws CheckpointException {
        if (!memo.containsKey(index)) {
            throw bad("pickle refers to memo entry " + index + " before storing it");
        }
        return memo.get(index);
    }

    // ---------------------------------------------------------------- input

    private int u8() throws CheckpointException {
        if (pos >= in.length) {
            throw bad("pickle ends early at byte " + pos);
        }
        return in[pos++] & 0xff;
    }

    private byte[] take(long n) throws CheckpointException {
        if (n < 0 || n > in.length - pos) {
            throw bad("pickle item of " + n + " bytes at byte " + pos + " runs past its end (" + in.length + " bytes)");
        }
        byte[] b = Arrays.copyOfRange(in, pos, pos + (int) n);
        pos += (int) n;
        return b;
    }

    /** Little-endian integer of n bytes. */
    private long le(int n, boolean signed) throws CheckpointException {
        byte[] b = take(n);
        long v = 0;
        for (int i = n - 1; i >= 0; i--) {
            v = (v << 8) | (b[i] & 0xff);
        }
        if (signed && n < 8 && (b[n - 1] & 0x80) != 0) {
            v -= 1L << (8 * n);
        }
        return v;
    }

    private long len32() throws CheckpointException {
        return le(4, false);
    }

    private long len64() throws CheckpointException {
        long n = le(8, false);
        return n < 0 ? Long.MAX_VALUE : n; // beyond any input; take() reports it
    }

    /** LONG1/LONG4: little-endian two's complement of n bytes. */
    private Object longN(long n) throws CheckpointException {
        byte[] b = take(n);
        if (b.length == 0) {
            return 0L;
        }
        byte[] be = new byte[b.length];
        for (int i = 0; i < b.length; i++) {
            be[i] = b[b.length - 1 - i];
        }
        BigInteger v = new BigInteger(be);
        return v.bitLength() < 64 ? (Object) v.longValue() : v;
    }

    private String utf8(long n) throws CheckpointException {
        return new String(take(n), StandardCharsets.UTF_8);
    }

    private String latin1(long n) throws CheckpointException {
        return new String(take(n), StandardCharsets.ISO_8859_1);
    }

    /** A newline-terminated ASCII line (GLOBAL's module and name), bounded so garbage cannot run on. */
    private String line() throws CheckpointException {
        int start = pos;
        int limit = Math.min(in.length, pos + 1024);
        for (int i = pos; i < limit; i++) {
            if (in[i] == '\n') {
                pos = i + 1;
                return new String(in, start, i - start, StandardCharsets.UTF_8);
            }
        }
        throw bad("unterminated GLOBAL name at byte " + start);
    }
}
