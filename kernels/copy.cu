// Strided copy: dst[index] = src[index] for one logical shape read through source strides and
// written through destination strides (both in elements, pointers already at their view offsets).
// It makes permuted, narrowed and broadcast (stride 0) views contiguous, and writes a part into a
// narrowed view of a larger tensor (cat along a dim, zero padding for asymmetric convolutions).
// A copy moves bits, so one kernel per element width serves every dtype: b16 (fp16, bf16) and
// b32 (fp32, int32). Rank ≤ 6: the host pads leading dims with size 1 and stride 0.
// Launch: 1-D grid-stride loop, 256 threads per block.
// CPU twin: sdj.backend.cpu.CpuBackend.copyInto / copy (strided element and row copies); the CUDA tests compare the two.
#include "common.cuh"

template <typename T>
__device__ void strided_copy_impl(const T* src, T* dst, long long n,
                                  int n0, int n1, int n2, int n3, int n4, int n5,
                                  long long s0, long long s1, long long s2, long long s3, long long s4, long long s5,
                                  long long d0, long long d1, long long d2, long long d3, long long d4, long long d5) {
    FOR_EACH_INDEX(i, n) {
        // Peel the row-major index into coordinates, innermost dim first.
        long long r = i;
        long long so = 0;
        long long dof = 0;
        long long c;
        c = r % n5; r /= n5; so += c * s5; dof += c * d5;
        c = r % n4; r /= n4; so += c * s4; dof += c * d4;
        c = r % n3; r /= n3; so += c * s3; dof += c * d3;
        c = r % n2; r /= n2; so += c * s2; dof += c * d2;
        c = r % n1; r /= n1; so += c * s1; dof += c * d1;
        c = r % n0;          so += c * s0; dof += c * d0;
        dst[dof] = src[so];
    }
}

#define STRIDED_COPY_ENTRY(suffix, T)                                                                           \
    extern "C" __global__ void strided_copy_##suffix(                                                         \
            const T* src, T* dst, long long n, int n0, int n1, int n2, int n3, int n4, int n5,                  \
            long long s0, long long s1, long long s2, long long s3, long long s4, long long s5,                 \
            long long d0, long long d1, long long d2, long long d3, long long d4, long long d5) {                \
        strided_copy_impl<T>(src, dst, n, n0, n1, n2, n3, n4, n5, s0, s1, s2, s3, s4, s5, d0, d1, d2, d3, d4,  \
                             d5);                                                                               \
    }
STRIDED_COPY_ENTRY(b16, unsigned short)
STRIDED_COPY_ENTRY(b32, unsigned int)
