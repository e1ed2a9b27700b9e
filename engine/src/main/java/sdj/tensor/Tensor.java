package sdj.tensor;

import java.lang.foreign.MemorySegment;

import java.util.Arrays;
import sdj.ops.Binary;
import sdj.ops.MatMul;
import sdj.ops.Reduce;
import sdj.ops.Unary;

/**
 * An n-dimensional view (shape, strides, storage offset) over a {@link Storage}, with the autograd
 * fields PyTorch users expect: {@code requiresGrad}, {@code grad} and the op that produced it.
 * Views share storage; ops return fresh fp32 tensors. Shapes are int[] (SD tensors are far below
 * 2^31 elements); the storage offset is a long so views into large mapped files work.
 *
 * <p>Devices: a tensor lives where its storage does ({@link #device()}). {@link #to(Device)},
 * {@link #cuda()} and {@link #cpu()} copy between host and GPU; views (view, permute, narrow, expand…)
 * work on either. Ops given CUDA tensors run on the GPU and return CUDA tensors. Reading the elements
 * of a CUDA tensor from Java ({@link #floats()}, {@link #toFloatArray()}, {@link #get}, {@link #item()})
 * does not copy silently: it fails with a message saying to call {@code cpu()} first, so a CPU op
 * reached by mistake on the GPU path shows up at once instead of as a slow hidden round trip.
 */
public final class Tensor {
    private final Storage storage;
    private final int[] shape;
    private final int[] strides;
    private final long offset;

    private boolean requiresGrad;
    private Tensor grad;
    /** A cleared gradient's storage, kept by {@link #clearGradKeepingStorage()} for the next backward to fill. */
    private Tensor spareGrad;
    private GradFn gradFn;

    public Tensor(Storage storage, int[] shape, int[] strides, long offset) {
        if (shape.length != strides.length) {
            throw new IllegalArgumentException("shape " + Shape.str(shape) + " and strides " + Arrays.toString(strides)
                    + " differ in rank");
        }
        this.storage = storage;
        this.shape = shape.clone();
        this.strides = strides.clone();
        this.offset = offset;
        long last = offset;
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + Shape.str(shape));
            }
            if (shape[i] == 0) {
                last = -1;
                break;
            }
            last += (long) (shape[i] - 1) * strides[i];
        }
        if (last >= storage.elements()) {
            throw new IllegalArgumentException("view of shape " + Shape.str(shape) + " at offset " + offset
                    + " reaches element " + last + " of a storage with only " + storage.elements() + " elements");
        }
    }

    // ---------------------------------------------------------------- factories

    /** Wraps {@code data} (no copy) as a contiguous fp32 tensor. */
    public static Tensor of(float[] data, int... shape) {
        if (Shape.numel(shape) != data.length) {
            throw new IllegalArgumentException(data.length + " values do not fill shape " + Shape.str(shape));
        }
        return new Tensor(Storage.ofFloats(data), shape, Shape.contiguousStrides(shape), 0);
    }

    public static Tensor scalar(float v) {
        return of(new float[] {v});
    }

    public static Tensor zeros(int... shape) {
        return of(new float[Math.toIntExact(Shape.numel(shape))], shape);
    }

    public static Tensor full(float value, int... shape) {
        float[] d = new float[Math.toIntExact(Shape.numel(shape))];
        Arrays.fill(d, value);
        return of(d, shape);
    }

    public static Tensor ones(int... shape) {
        return full(1f, shape);
    }

    /** A contiguous tensor of the given integer values stored as int64. */
    public static Tensor ofLongs(long[] values, int... shape) {
        Storage s = Storage.allocate(DType.I64, values.length);
        for (int i = 0; i < values.length; i++) {
            s.setLong(i, values[i]);
        }
        return new Tensor(s, shape, Shape.contiguousStrides(shape), 0);
    }

    public static Tensor arange(int n) {
        float[] d = new float[n];
        for (int i = 0; i < n; i++) {
            d[i] = i;
        }
        return of(d, n);
    }

    // ---------------------------------------------------------------- metadata

    public int[] shape() {
        return shape.clone();
    }

    public int size(int dim) {
        return shape[Shape.wrap(dim, shape.length)];
    }

    public int dim() {
        return shape.length;
    }

    public long numel() {
        return Shape.numel(shape);
    }

    public int[] strides() {
        return strides.clone();
    }

    public long offset() {
        return offset;
    }

    public Storage storage() {
        return storage;
    }

    public DType dtype() {
        return storage.dtype();
    }

    public Device device() {
        return storage.device();
    }

    /** True when the elements are in GPU memory: the one cheap check ops make before choosing a backend. */
    public boolean isCuda() {
        return storage.deviceBuffer() != null;
    }

    // ---------------------------------------------------------------- devices

    /** This tensor on {@code device} (itself when already there), keeping the dtype where the device has it. */
    public Tensor to(Device device) {
        return to(device, null);
    }

    /**
     * A copy on {@code device} stored as {@code dtype} (null: keep the dtype; on CUDA, F64 becomes F32
     * and integer tensors become I32, the types the kernels read). Not recorded by autograd.
     */
    public Tensor to(Device device, DType dtype) {
        if (device == device() && (dtype == null || dtype == dtype())) {
            return this;
        }
        if (device != Device.CPU || isCuda()) {
            return Backends.of(device != Device.CPU ? device : device()).transfer(this, device, dtype);
        }
        return dtype == null ? this : to(dtype);
    }

    public Tensor cuda() {
        return to(Device.CUDA);
    }

    public Tensor cpu() {
        return to(Device.CPU);
    }

    public boolean isContiguous() {
        int expected = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] != 1 && strides[i] != expected) {
                return false;
            }
            expected *= shape[i];
        }
        return true;
    }

    // ---------------------------------------------------------------- autograd fields

    public boolean requiresGrad() {
        return requiresGrad || gradFn != null;
    }

    /** Marks a leaf as a parameter whose gradient accumulates into {@link #grad()}. */
    public Tensor requiresGrad(boolean flag) {
        if (gradFn != null && !flag) {
            throw new IllegalStateException("cannot clear requiresGrad on a non-leaf tensor; use detach()");
        }
        this.requiresGrad = flag;
        return this;
    }

    public Tensor grad() {
        return grad;
    }

    public void zeroGrad() {
        grad = null;
        spareGrad = null;
    }

    /**
     * Clears the gradient as {@link #zeroGrad} does but keeps its storage, which the next backward fills in place
     * (no gigabytes of garbage per training step). The cleared gradient must not be held: it will be overwritten.
     */
    public void clearGradKeepingStorage() {
        if (grad != null && !grad.isCuda() && grad.dtype() == DType.F32 && grad.isContiguous()) {
            spareGrad = grad;
        }
        grad = null;
    }

    public void setGrad(Tensor g) {
        grad = g;
    }

    public GradFn gradFn() {
        return gradFn;
    }

    void setGradFn(GradFn fn) {
        this.gradFn = fn;
    }

    void accumulateGrad(Tensor g) {
        if (spareGrad != null && !g.isCuda() && Arrays.equals(spareGrad.shape, g.shape)) {
            if (grad == null) {
                Backends.of(Device.CPU).copyInto(g, spareGrad);
                grad = spareGrad;
                return;
            }
            if (grad == spareGrad) {
                Backends.of(Device.CPU).addInPlace(grad, g, 1f); // grad + g, as add rounds it
                return;
            }
        }
        Tensor gc = ownCopyOf(g);
        grad = grad == null ? gc : grad.add(gc);
    }

    /**
     * g as a fresh contiguous tensor sharing no storage (it may be a view of another gradient): fp32 on
     * the host, and on the GPU a device copy in this leaf's dtype (an fp16 parameter gets an fp16 grad).
     */
    private Tensor ownCopyOf(Tensor g) {
        return Backends.of(g.device()).copy(g, g.isCuda() ? dtype() : DType.F32);
    }

    /** Runs backward from a scalar (or with an explicit output gradient of this shape). */
    public void backward() {
        if (numel() != 1) {
            throw new IllegalStateException("backward() without a gradient needs a scalar, got shape " + Shape.str(shape));
        }
        backward(Tensor.ones(shape));
    }

    /** The sweep runs where this tensor lives: a host gradOutput for a CUDA output is uploaded in its dtype first. */
    public void backward(Tensor gradOutput) {
        if (!requiresGrad()) {
            throw new IllegalStateException("backward() on a tensor that does not require grad");
        }
        Tensor seed = isCuda() && !gradOutput.isCuda() ? gradOutput.to(Device.CUDA, dtype()) : gradOutput;
        Autograd.backward(this, seed);
    }

    /** The same data, cut from the tape. */
    public Tensor detach() {
        return new Tensor(storage, shape, strides, offset);
    }

    // ---------------------------------------------------------------- data access

    /**
     * The elements in row-major order as fp32. Returns the backing array itself (no copy) when this
     * is a whole contiguous fp32 heap tensor: treat it as read-only. Use {@link #toFloatArray()} to own a copy.
     */
    public float[] floats() {
        requireHost("floats()");
        float[] heap = storage.heapFloats();
        if (heap != null && offset == 0 && heap.length == numel() && isContiguous()) {
            return heap;
        }
        return toFloatArray();
    }

    /** A fresh row-major fp32 copy of the elements. */
    public float[] toFloatArray() {
        return copyInto(new float[Math.toIntExact(numel())]);
    }

    /** Writes the elements in row-major order as fp32 into {@code out} (exactly numel() long); returns it. */
    public float[] copyInto(float[] out) {
        requireHost("copyInto()");
        if (out.length != numel()) {
            throw new IllegalArgumentException("copyInto() needs an array of " + numel() + " floats for " + this
                    + ", got " + out.length);
        }
        if (out.length == 0) {
            return out;
        }
        float[] heap = storage.heapFloats();
        if (heap != null && isContiguous()) {
            System.arraycopy(heap, (int) offset, out, 0, out.length);
            return out;
        }
        if (heap == null && storage.dtype() == DType.F32) {
            MappedCopies.record(out.length); // an fp32 tensor outside the heap: a weight read from a mapped file
            if (isContiguous()) {
                MemorySegment.copy(storage.segment(), Storage.F32, 4 * offset, out, 0, out.length);
                return out;
            }
        }
        Elements.gatherFloats(storage, shape, strides, offset, out);
        return out;
    }

    /** The elements in row-major order as longs (exact for integer dtypes). */
    public long[] toLongArray() {
        requireHost("toLongArray()");
        return Elements.gatherLongs(storage, shape, strides, offset);
    }

    public float get(int... index) {
        requireHost("get()");
        if (index.length != shape.length) {
            throw new IllegalArgumentException("index of rank " + index.length + " for a tensor of rank " + shape.length);
        }
        long p = offset;
        for (int d = 0; d < index.length; d++) {
            if (index[d] < 0 || index[d] >= shape[d]) {
                throw new IndexOutOfBoundsException("index " + Arrays.toString(index) + " outside " + Shape.str(shape));
            }
            p += (long) index[d] * strides[d];
        }
        return storage.getFloat(p);
    }

    public float item() {
        if (numel() != 1) {
            throw new IllegalStateException("item() on a tensor of shape " + Shape.str(shape));
        }
        return floats()[0];
    }

    private void requireHost(String what) {
        if (isCuda()) {
            throw storage.hostOnly(what);
        }
    }

    /** A contiguous copy in another storage dtype (rounding as that dtype does). Not recorded. */
    public Tensor to(DType dtype) {
        if (isCuda()) {
            return Backends.of(Device.CUDA).transfer(this, Device.CUDA, dtype);
        }
        if (dtype == DType.F32) {
            return Tensor.of(toFloatArray(), shape);
        }
        Storage s = Storage.allocate(dtype, numel());
        if (dtype.isFloating()) {
            float[] v = floats();
            for (int i = 0; i < v.length; i++) {
                s.setFloat(i, v[i]);
            }
        } else {
            long[] v = toLongArray();
            for (int i = 0; i < v.length; i++) {
                s.setLong(i, v[i]);
            }
        }
        return new Tensor(s, shape, Shape.contiguousStrides(shape), 0);
    }

    /**
     * Contiguous fp32 tensor with the same values; this tensor itself when already so. Recorded.
     * On CUDA the copy keeps the dtype (fp16 activations stay fp16).
     */
    public Tensor contiguous() {
        if (isContiguous() && (isCuda() || dtype() == DType.F32)) {
            return this;
        }
        Tensor out = Backends.of(device()).copy(this, null);
        return Autograd.record(out, "contiguous", new Tensor[] {this}, g -> new Tensor[] {g});
    }

    // ---------------------------------------------------------------- views (no copy)

    public Tensor view(int... newShape) {
        int[] target = Shape.infer(newShape, numel());
        if (!isContiguous()) {
            throw new IllegalStateException("view() of a non-contiguous tensor of shape " + Shape.str(shape)
                    + "; use reshape()");
        }
        int[] original = shape;
        Tensor out = new Tensor(storage, target, Shape.contiguousStrides(target), offset);
        return Autograd.record(out, "view", new Tensor[] {this}, g -> new Tensor[] {g.reshape(original)});
    }

    /** A view when the layout allows, else a contiguous copy. */
    public Tensor reshape(int... newShape) {
        return isContiguous() ? view(newShape) : contiguous().view(newShape);
    }

    public Tensor flatten() {
        return reshape(-1);
    }

    public Tensor permute(int... dims) {
        if (dims.length != shape.length) {
            throw new IllegalArgumentException("permute needs " + shape.length + " dims, got " + dims.length);
        }
        int[] ns = new int[dims.length];
        int[] nst = new int[dims.length];
        int[] inverse = new int[dims.length];
        boolean[] seen = new boolean[dims.length];
        for (int i = 0; i < dims.length; i++) {
            int d = Shape.wrap(dims[i], shape.length);
            if (seen[d]) {
                throw new IllegalArgumentException("permute repeats dim " + d);
            }
            seen[d] = true;
            ns[i] = shape[d];
            nst[i] = strides[d];
            inverse[d] = i;
        }
        Tensor out = new Tensor(storage, ns, nst, offset);
        return Autograd.record(out, "permute", new Tensor[] {this}, g -> new Tensor[] {g.permute(inverse)});
    }

    public Tensor transpose(int a, int b) {
        int[] dims = new int[shape.length];
        for (int i = 0; i < dims.length; i++) {
            dims[i] = i;
        }
        int da = Shape.wrap(a, shape.length);
        int db = Shape.wrap(b, shape.length);
        dims[da] = db;
        dims[db] = da;
        return permute(dims);
    }

    /** Elements [start, start+length) along dim, as a view. */
    public Tensor narrow(int dim, int start, int length) {
        int d = Shape.wrap(dim, shape.length);
        if (start < 0 || length < 0 || start + length > shape[d]) {
            throw new IndexOutOfBoundsException("narrow(" + dim + ", " + start + ", " + length + ") outside "
                    + Shape.str(shape));
        }
        int[] ns = shape.clone();
        ns[d] = length;
        Tensor out = new Tensor(storage, ns, strides, offset + (long) start * strides[d]);
        int[] inShape = shape;
        return Autograd.record(out, "narrow", new Tensor[] {this},
                g -> new Tensor[] {sdj.ops.Join.padNarrowGrad(g, inShape, d, start)});
    }

    public Tensor slice(int dim, int start, int end) {
        return narrow(dim, start, end - start);
    }

    /** Removes dim by taking index i along it (a view). */
    public Tensor select(int dim, int index) {
        return narrow(dim, index, 1).squeeze(dim);
    }

    /** Broadcasts size-1 dims (and new leading dims) to the given shape without copying. */
    public Tensor expand(int... target) {
        if (target.length < shape.length) {
            throw new IllegalArgumentException("cannot expand " + Shape.str(shape) + " to " + Shape.str(target));
        }
        int lead = target.length - shape.length;
        int[] ns = new int[target.length];
        int[] nst = new int[target.length];
        for (int i = 0; i < target.length; i++) {
            int src = i - lead;
            int have = src >= 0 ? shape[src] : 1;
            int want = target[i] == -1 ? have : target[i];
            if (have == want) {
                ns[i] = want;
                nst[i] = src >= 0 ? strides[src] : 0;
            } else if (have == 1) {
                ns[i] = want;
                nst[i] = 0;
            } else {
                throw new IllegalArgumentException("cannot expand " + Shape.str(shape) + " to " + Shape.str(target));
            }
        }
        if (Arrays.equals(ns, shape)) {
            return this;
        }
        Tensor out = new Tensor(storage, ns, nst, offset);
        int[] inShape = shape;
        return Autograd.record(out, "expand", new Tensor[] {this}, g -> new Tensor[] {Reduce.sumToShape(g, inShape)});
    }

    public Tensor unsqueeze(int dim) {
        int d = dim < 0 ? dim + shape.length + 1 : dim;
        int[] ns = new int[shape.length + 1];
        int[] nst = new int[shape.length + 1];
        for (int i = 0, j = 0; i < ns.length; i++) {
            if (i == d) {
                ns[i] = 1;
                nst[i] = j < shape.length ? strides[j] * shape[j] : 1;
            } else {
                ns[i] = shape[j];
                nst[i] = strides[j];
                j++;
            }
        }
        Tensor out = new Tensor(storage, ns, nst, offset);
        int[] inShape = shape;
        return Autograd.record(out, "unsqueeze", new Tensor[] {this}, g -> new Tensor[] {g.reshape(inShape)});
    }

    public Tensor squeeze(int dim) {
        int d = Shape.wrap(dim, shape.length);
        if (shape[d] != 1) {
            return this;
        }
        int[] ns = new int[shape.length - 1];
        int[] nst = new int[shape.length - 1];
        for (int i = 0, j = 0; i < shape.length; i++) {
            if (i != d) {
                ns[j] = shape[i];
                nst[j] = strides[i];
                j++;
            }
        }
        Tensor out = new Tensor(storage, ns, nst, offset);
        int[] inShape = shape;
        return Autograd.record(out, "squeeze", new Tensor[] {this}, g -> new Tensor[] {g.reshape(inShape)});
    }

    // ---------------------------------------------------------------- common ops as methods

    public Tensor add(Tensor o) {
        return Binary.add(this, o);
    }

    public Tensor sub(Tensor o) {
        return Binary.sub(this, o);
    }

    public Tensor mul(Tensor o) {
        return Binary.mul(this, o);
    }

    public Tensor div(Tensor o) {
        return Binary.div(this, o);
    }

    public Tensor add(float s) {
        return Unary.addScalar(this, s);
    }

    public Tensor mul(float s) {
        return Unary.mulScalar(this, s);
    }

    public Tensor neg() {
        return Unary.neg(this);
    }

    public Tensor matmul(Tensor o) {
        return MatMul.matmul(this, o);
    }

    public Tensor sum() {
        return Reduce.sumAll(this);
    }

    public Tensor mean() {
        return Reduce.meanAll(this);
    }

    public Tensor sum(int dim, boolean keepDim) {
        return Reduce.sum(this, new int[] {dim}, keepDim);
    }

    public Tensor mean(int dim, boolean keepDim) {
        return Reduce.mean(this, new int[] {dim}, keepDim);
    }

    @Override
    public String toString() {
        return "Tensor" + Shape.str(shape) + " " + dtype() + (requiresGrad() ? " requiresGrad" : "");
    }
}
