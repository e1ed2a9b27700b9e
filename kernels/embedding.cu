// Embedding lookup: out[i, :] = weight[ids[i], :] for weight [V, D] and int32 ids [n].
// Backward adds rows of dout into an fp32 dweight. Ids repeat (padding tokens), so without atomics:
// thread (bucket, col) owns the rows whose id % EMB_BUCKETS == bucket and adds their tokens in token
// order, so every element has one writer and a fixed summation order (bit-identical runs).
// Launch: forward 1-D grid-stride over n*D elements, backward over EMB_BUCKETS*D; 256 threads.
// Out-of-range ids give zero rows (forward) and are skipped (backward); the host validates ids.
// CPU twin: sdj.backend.cpu.CpuLookup.embedding; the CUDA tests compare the two.
#include "common.cuh"

template <typename T>
__device__ void embedding_forward_impl(const T* weight, const int* ids, T* out, long long n, long long V, long long D) {
    FOR_EACH_INDEX(i, n * D) {
        long long row = i / D, col = i % D;
        int id = ids[row];
        out[i] = (id >= 0 && id < V) ? weight[(long long)id * D + col] : from_f32<T>(0.f);
    }
}

#define EMB_BUCKETS 64  // sdj.backend.cuda.LookupOps.EMBEDDING_BUCKETS

template <typename T>
__device__ void embedding_backward_impl(const T* dout, const int* ids, float* dweight, long long n, long long V, long long D) {
    FOR_EACH_INDEX(t, EMB_BUCKETS * D) {
        long long col = t % D;
        int bucket = (int)(t / D);
        for (long long i = 0; i < n; i++) {
            int id = ids[i];
            if (id >= 0 && id < V && id % EMB_BUCKETS == bucket) dweight[(long long)id * D + col] += to_f32(dout[i * D + col]);
        }
    }
}

#define EMBEDDING_ENTRIES(suffix, T)                                                                          \
    extern "C" __global__ void embedding_forward_##suffix(const T* weight, const int* ids, T* out, long long n, \
                                                          long long V, long long D) {                         \
        embedding_forward_impl<T>(weight, ids, out, n, V, D);                                                 \
    }                                                                                                         \
    extern "C" __global__ void embedding_backward_##suffix(const T* dout, const int* ids, float* dweight,    \
                                                           long long n, long long V, long long D) {           \
        embedding_backward_impl<T>(dout, ids, dweight, n, V, D);                                              \
    }
FOR_EACH_DTYPE(EMBEDDING_ENTRIES)
