package sdj.backend.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import sdj.tensor.DType;

/**
 * cuBLASLt reached through Java's FFM (JCuda's jcublas links libcublas.so.12 and does not load on
 * CUDA 13 machines). Row-major products are mapped onto cuBLASLt's column-major API by computing
 * Cᵀ = Bᵀ·Aᵀ: a row-major matrix is a column-major one of the transposed shape with the same leading
 * dimension. Descriptors and the chosen algorithm are cached per problem shape.
 */
final class CublasLt {
    // cudaDataType_t
    private static final int CUDA_R_32F = 0;
    private static final int CUDA_R_16F = 2;
    private static final int CUDA_R_16BF = 14;
    // cublasComputeType_t: fp32 accumulation for every input type
    private static final int CUBLAS_COMPUTE_32F = 68;
    // cublasLtMatmulDescAttributes_t
    private static final int DESC_TRANSA = 3;
    private static final int DESC_TRANSB = 4;
    // cublasLtMatrixLayoutAttribute_t
    private static final int LAYOUT_BATCH_COUNT = 5;
    private static final int LAYOUT_STRIDED_BATCH_OFFSET = 6;
    // cublasLtMatmulPreferenceAttributes_t
    private static final int PREF_MAX_WORKSPACE_BYTES = 1;
    private static final int PREF_REDUCTION_SCHEME_MASK = 3;
    private static final int PREF_MIN_ALIGNMENT_A_BYTES = 5; // then B, C, D at 6, 7, 8
    /** The alignment cuBLASLt's heuristic assumes of every pointer unless told otherwise. */
    static final int DEFAULT_ALIGNMENT = 256;
    // cublasLtReductionScheme_t: split-K partial sums kept and added in the compute type (fp32)
    private static final int REDUCTION_SCHEME_COMPUTE_TYPE = 2;
    private static final int CUBLAS_STATUS_NOT_SUPPORTED = 15;
    private static final int CUBLAS_OP_N = 0;
    private static final int CUBLAS_OP_T = 1;
    /** sizeof(cublasLtMatmulHeuristicResult_t): algo (64) + workspaceSize (8) + state, wavesCount (8) + reserved (16). */
    private static final long HEURISTIC_RESULT_BYTES = 96;
    private static final long WORKSPACE_BYTES = 32L << 20;

    private final String location;
    private final MethodHandle matmulDescCreate;
    private final MethodHandle matmulDescSetAttribute;
    private final MethodHandle matrixLayoutCreate;
    private final MethodHandle matrixLayoutSetAttribute;
    private final MethodHandle preferenceCreate;
    private final MethodHandle preferenceSetAttribute;
    private final MethodHandle algoGetHeuristic;
    private final MethodHandle matmul;
    private final MemorySegment handle;
    private final Arena arena = Arena.ofShared();
    private final Map<Problem, Plan> plans = new HashMap<>();
    private CudaTensor workspace;
    private final MemorySegment alphaSeg = arena.allocate(JAVA_FLOAT);
    private final MemorySegment betaSeg = arena.allocate(JAVA_FLOAT);

    /** One operand as cuBLASLt sees it: the stored column-major matrix and whether to transpose it. */
    record Operand(long rows, long cols, long ld, boolean transpose, long batchStride) {
    }

    /**
     * One GEMM as cuBLASLt plans it. The alignments (bytes, at most 256) are part of the key: the
     * heuristic otherwise assumes 256-byte-aligned pointers and may pick a kernel that faults on a view
     * that starts mid-allocation (a chunk, a head, one image of a batch).
     */
    private record Problem(DType dtype, Operand first, Operand second, long m, long n, long ldc, long strideC,
                           int batch, int alignFirst, int alignSecond, int alignOut) {
    }

    private record Plan(MemorySegment desc, MemorySegment firstLayout, MemorySegment secondLayout,
                        MemorySegment outLayout, MemorySegment algo) {
    }

    /** Cached for problems the heuristic found no algorithm for. */
    private static final Plan NO_ALGORITHM = new Plan(null, null, null, null, null);
    private static final System.Logger LOG = System.getLogger("sdj.cuda");

    private CublasLt(CublasLtLibrary.Found lib) throws Throwable {
        this.location = lib.location();
        Linker linker = Linker.nativeLinker();
        SymbolLookup l = lib.lookup();
        MethodHandle create = bind(linker, l, "cublasLtCreate", ADDRESS);
        matmulDescCreate = bind(linker, l, "cublasLtMatmulDescCreate", ADDRESS, JAVA_INT, JAVA_INT);
        matmulDescSetAttribute = bind(linker, l, "cublasLtMatmulDescSetAttribute", ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG);
        matrixLayoutCreate = bind(linker, l, "cublasLtMatrixLayoutCreate", ADDRESS, JAVA_INT, JAVA_LONG, JAVA_LONG,
                JAVA_LONG);
        matrixLayoutSetAttribute = bind(linker, l, "cublasLtMatrixLayoutSetAttribute", ADDRESS, JAVA_INT, ADDRESS,
                JAVA_LONG);
        preferenceCreate = bind(linker, l, "cublasLtMatmulPreferenceCreate", ADDRESS);
        preferenceSetAttribute = bind(linker, l, "cublasLtMatmulPreferenceSetAttribute", ADDRESS, JAVA_INT, ADDRESS,
                JAVA_LONG);
        algoGetHeuristic = bind(linker, l, "cublasLtMatmulAlgoGetHeuristic", ADDRESS, ADDRESS, ADDRESS, ADDRESS,
                ADDRESS, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS);
        matmul = bind(linker, l, "cublasLtMatmul", ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS,
                ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS);
        MemorySegment out = arena.allocate(ADDRESS);
        check((int) create.invokeExact(out), "cublasLtCreate");
        handle = out.get(ADDRESS, 0);
    }

    private static MethodHandle bind(Linker linker, SymbolLookup lookup, String name,
                                     java.lang.foreign.MemoryLayout... args) {
        MemorySegment symbol = lookup.find(name).orElseThrow(() -> new CudaException("cuBLASLt lacks " + name));
        return linker.downcallHandle(symbol, FunctionDescriptor.of(JAVA_INT, args));
    }

    /** cuBLASLt when the library is installed and initialises on this device, else null with the reason in {@code why}. */
    static CublasLt load(CudaDevice device, StringBuilder why) {
        List<String> tried = new ArrayList<>();
        CublasLtLibrary.Found lib = CublasLtLibrary.find(tried);
        if (lib == null) {
            why.append("libcublasLt not found (tried ").append(String.join(", ", tried)).append(")");
            return null;
        }
        try {
            device.makeCurrent();
            return new CublasLt(lib);
        } catch (Throwable t) {
            why.append("libcublasLt at ").append(lib.location()).append(" did not initialise: ").append(t.getMessage());
            return null;
        }
    }

    String location() {
        return location;
    }

    /** True when cuBLASLt can read these strides directly (one of the two strides of each operand is 1). */
    static boolean supports(GemmOperand a, GemmOperand b) {
        return (a.colStride() == 1 || a.rowStride() == 1) && (b.colStride() == 1 || b.rowStride() == 1);
    }

    /**
     * C[M, N] = alpha · A[M, K]·B[K, N] + beta · C, batched, row-major C with leading dim ldc.
     * The caller checked {@link #supports}. Returns false, having queued nothing, when cuBLASLt has no
     * algorithm for this problem (e.g. for operands only 2-byte aligned), so the caller can use its own.
     */
    synchronized boolean gemm(CudaDevice device, DType dtype, int m, int n, int k, GemmOperand a, GemmOperand b,
                           DevicePtr c, long ldc, long strideC, int batch, float alpha, float beta) {
        // Column-major view: D (N×M) = op(first)·op(second) with first from B and second from A.
        Operand first = columnMajor(b, k, n);
        Operand second = columnMajor(a, m, k);
        long elem = dtype.byteSize;
        Problem problem = new Problem(dtype, first, second, m, n, ldc, strideC, batch,
                alignment(b.ptr().address(), b.batchStride() * elem), alignment(a.ptr().address(), a.batchStride() * elem),
                alignment(c.address(), strideC * elem));
        try {
            Plan plan = plans.computeIfAbsent(problem, key -> plan(device, key));
            if (plan == NO_ALGORITHM) {
                return false;
            }
            alphaSeg.set(JAVA_FLOAT, 0, alpha); // host pointer mode: read during the call
            betaSeg.set(JAVA_FLOAT, 0, beta);
            MemorySegment cSeg = MemorySegment.ofAddress(c.address());
            int status = (int) matmul.invokeExact(handle, plan.desc(), alphaSeg,
                    MemorySegment.ofAddress(b.ptr().address()), plan.firstLayout(),
                    MemorySegment.ofAddress(a.ptr().address()), plan.secondLayout(), betaSeg,
                    cSeg, plan.outLayout(), cSeg, plan.outLayout(), plan.algo(),
                    MemorySegment.ofAddress(workspace.ptr().address()), WORKSPACE_BYTES,
                    MemorySegment.ofAddress(device.driver().streamAddress()));
            if (status == CUBLAS_STATUS_NOT_SUPPORTED) { // refused before queuing anything
                LOG.log(System.Logger.Level.INFO, "cublasLtMatmul does not support {0}; sdj''s kernels run it", problem);
                plans.put(problem, NO_ALGORITHM);
                return false;
            }
            check(status, "cublasLtMatmul");
            return true;
        } catch (CudaException e) {
            throw e;
        } catch (Throwable t) {
            throw new CudaException("cublasLtMatmul call failed", t);
        }
    }

    private Plan plan(CudaDevice device, Problem p) {
        try {
            return planOrThrow(device, p);
        } catch (CudaException e) {
            throw e;
        } catch (Throwable t) {
            throw new CudaException("cuBLASLt planning failed for " + p, t);
        }
    }

    private Plan planOrThrow(CudaDevice device, Problem p) throws Throwable {
        if (workspace == null) {
            workspace = CudaTensor.empty(device, DType.F32, (int) (WORKSPACE_BYTES / 4));
        }
        int type = switch (p.dtype()) {
            case F32 -> CUDA_R_32F;
            case F16 -> CUDA_R_16F;
            case BF16 -> CUDA_R_16BF;
            default -> throw new IllegalArgumentException("cuBLASLt GEMM of " + p.dtype());
        };
        MemorySegment out = arena.allocate(ADDRESS);
        check((int) matmulDescCreate.invokeExact(out, CUBLAS_COMPUTE_32F, CUDA_R_32F), "cublasLtMatmulDescCreate");
        MemorySegment desc = out.get(ADDRESS, 0);
        setDesc(desc, DESC_TRANSA, p.first().transpose() ? CUBLAS_OP_T : CUBLAS_OP_N);
        setDesc(desc, DESC_TRANSB, p.second().transpose() ? CUBLAS_OP_T : CUBLAS_OP_N);
        MemorySegment firstLayout = layout(type, p.first().rows(), p.first().cols(), p.first().ld(), p.batch(),
                p.first().batchStride());
        MemorySegment secondLayout = layout(type, p.second().rows(), p.second().cols(), p.second().ld(), p.batch(),
                p.second().batchStride());
        MemorySegment outLayout = layout(type, p.n(), p.m(), p.ldc(), p.batch(), p.strideC());

        check((int) preferenceCreate.invokeExact(out), "cublasLtMatmulPreferenceCreate");
        MemorySegment pref = out.get(ADDRESS, 0);
        MemorySegment ws = arena.allocateFrom(JAVA_LONG, WORKSPACE_BYTES);
        check((int) preferenceSetAttribute.invokeExact(pref, PREF_MAX_WORKSPACE_BYTES, ws, 8L),
                "cublasLtMatmulPreferenceSetAttribute");
        // Split-K only with an fp32 reduction: the in-place and output-type schemes add the partial sums in
        // fp16/bf16, which would undo the fp32 accumulation over long reductions (conv dW over a whole batch).
        MemorySegment schemes = arena.allocateFrom(JAVA_INT, REDUCTION_SCHEME_COMPUTE_TYPE);
        check((int) preferenceSetAttribute.invokeExact(pref, PREF_REDUCTION_SCHEME_MASK, schemes, 4L),
                "cublasLtMatmulPreferenceSetAttribute(reduction scheme)");
        int[] alignments = {p.alignFirst(), p.alignSecond(), p.alignOut(), p.alignOut()}; // A, B, C, D
        for (int i = 0; i < alignments.length; i++) {
            MemorySegment bytes = arena.allocateFrom(JAVA_INT, alignments[i]);
            check((int) preferenceSetAttribute.invokeExact(pref, PREF_MIN_ALIGNMENT_A_BYTES + i, bytes, 4L),
                    "cublasLtMatmulPreferenceSetAttribute(min alignment)");
        }
        MemorySegment results = arena.allocate(HEURISTIC_RESULT_BYTES, 8);
        MemorySegment count = arena.allocate(JAVA_INT);
        int status = (int) algoGetHeuristic.invokeExact(handle, desc, firstLayout, secondLayout, outLayout, outLayout,
                pref, 1, results, count);
        // The heuristic answers NOT_SUPPORTED, rather than zero results, for some layouts and alignments.
        if (status != CUBLAS_STATUS_NOT_SUPPORTED) {
            check(status, "cublasLtMatmulAlgoGetHeuristic");
        }
        if (status == CUBLAS_STATUS_NOT_SUPPORTED || count.get(JAVA_INT, 0) == 0) {
            LOG.log(System.Logger.Level.INFO, "cuBLASLt has no algorithm for {0}; sdj''s kernels run it", p);
            return NO_ALGORITHM;
        }
        return new Plan(desc, firstLayout, secondLayout, outLayout, results.asSlice(0, 64));
    }

    /**
     * A row-major operand [rows, cols] (through its strides) as the column-major matrix cuBLASLt reads:
     * itself transposed when its columns are contiguous, else as is with the transpose flag set. A
     * matrix with one column in that view may come with ld = 1 (both strides are 1 when a dimension is
     * 1); cuBLASLt rejects ld below the row count even where ld is never used, so it is raised.
     */
    static Operand columnMajor(GemmOperand op, long rows, long cols) {
        Operand o = op.colStride() == 1
                ? new Operand(cols, rows, op.rowStride(), false, op.batchStride())
                : new Operand(rows, cols, op.colStride(), true, op.batchStride());
        return o.cols() == 1 && o.ld() < o.rows()
                ? new Operand(o.rows(), o.cols(), o.rows(), o.transpose(), o.batchStride())
                : o;
    }

    /**
     * The largest power of two, up to {@link #DEFAULT_ALIGNMENT}, dividing both the address and the batch
     * stride in bytes: then every matrix of the batch, address + i·stride, is that aligned too.
     */
    static int alignment(long address, long batchStrideBytes) {
        return (int) Long.lowestOneBit(address | batchStrideBytes | DEFAULT_ALIGNMENT);
    }

    private void setDesc(MemorySegment desc, int attr, int value) throws Throwable {
        MemorySegment v = arena.allocateFrom(JAVA_INT, value);
        check((int) matmulDescSetAttribute.invokeExact(desc, attr, v, 4L), "cublasLtMatmulDescSetAttribute(" + attr + ")");
    }

    private MemorySegment layout(int type, long rows, long cols, long ld, int batch, long batchStride) throws Throwable {
        MemorySegment out = arena.allocate(ADDRESS);
        check((int) matrixLayoutCreate.invokeExact(out, type, rows, cols, ld), "cublasLtMatrixLayoutCreate");
        MemorySegment layout = out.get(ADDRESS, 0);
        if (batch > 1) {
            MemorySegment count = arena.allocateFrom(JAVA_INT, batch);
            check((int) matrixLayoutSetAttribute.invokeExact(layout, LAYOUT_BATCH_COUNT, count, 4L),
                    "cublasLtMatrixLayoutSetAttribute(batch count)");
            MemorySegment stride = arena.allocateFrom(JAVA_LONG, batchStride);
            check((int) matrixLayoutSetAttribute.invokeExact(layout, LAYOUT_STRIDED_BATCH_OFFSET, stride, 8L),
                    "cublasLtMatrixLayoutSetAttribute(batch stride)");
        }
        return layout;
    }

    private static void check(int status, String call) {
        if (status != 0) {
            throw new CudaException(call + " returned cublasStatus " + status);
        }
    }
}
