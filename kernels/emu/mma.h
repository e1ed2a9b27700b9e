// Host emulation of the nvcuda::wmma subset our kernels use (16×16×16 tiles, fp32 accumulators,
// row- or column-major operands). A real fragment is spread over the 32 lanes of a warp in an
// unspecified layout; here every lane holds the whole tile (as fp32: fp16/bf16 values convert
// exactly), which is a valid layout since load, mma and store are warp-collective. Kernels must
// therefore never touch fragment elements (`x[i]`) themselves: that would work here and be wrong on
// a GPU. mma_sync splits the 256 outputs over the 32 lanes and gathers them back, so the warp does the
// work once, not 32 times. Products accumulate in fp32 like the tensor cores do.
//
// Every load and store checks what the real API requires and a GPU does not check for you: the
// pointer 32-byte aligned and ldm a multiple of 16 bytes (8 fp16/bf16 elements, 4 floats). A
// violation fails the launch (sdj_emu_fail) with the call and the values.
#pragma once
#include <cstdint>
#include <cstdio>
#include <type_traits>

namespace nvcuda {
namespace wmma {
struct matrix_a {};
struct matrix_b {};
struct accumulator {};
struct row_major {};
struct col_major {};
enum layout_t { mem_row_major, mem_col_major };

template <typename Use, int M, int N, int K, typename T, typename Layout = void> struct fragment;

template <int M, int N, int K, typename T, typename Layout> struct fragment<matrix_a, M, N, K, T, Layout> {
    static constexpr int rows = M, cols = K;
    float x[M * K];
};
template <int M, int N, int K, typename T, typename Layout> struct fragment<matrix_b, M, N, K, T, Layout> {
    static constexpr int rows = K, cols = N;
    float x[K * N];
};
template <int M, int N, int K, typename T> struct fragment<accumulator, M, N, K, T, void> {
    static constexpr int rows = M, cols = N;
    T x[M * N];
};

template <typename F, typename T> inline void fill_fragment(F& f, T v) {
    for (auto& e : f.x) e = v;
}

// The real API's preconditions on a load/store's pointer and leading dimension.
template <typename T> inline void sdj_emu_check_wmma(const char* call, const T* p, unsigned ldm) {
    char what[160];
    if (reinterpret_cast<uintptr_t>(p) % 32 != 0) {
        snprintf(what, sizeof what, "wmma::%s with a pointer %p that is not 32-byte aligned", call, (const void*)p);
        sdj_emu_fail(what);
    } else if (ldm * sizeof(T) % 16 != 0) {
        snprintf(what, sizeof what, "wmma::%s with ldm %u, not a multiple of 16 bytes (%zu-byte elements)", call, ldm,
                 sizeof(T));
        sdj_emu_fail(what);
    }
}

// Element (r, c) of a row_major operand sits at p[r*ldm + c], of a col_major one at p[c*ldm + r].
template <typename Use, int M, int N, int K, typename T, typename Layout>
inline void load_matrix_sync(fragment<Use, M, N, K, T, Layout>& f, const T* p, unsigned ldm) {
    using Frag = fragment<Use, M, N, K, T, Layout>;
    constexpr bool col = std::is_same<Layout, col_major>::value;
    sdj_emu_check_wmma("load_matrix_sync", p, ldm);
    for (int r = 0; r < Frag::rows; r++)
        for (int c = 0; c < Frag::cols; c++) f.x[r * Frag::cols + c] = to_f32(col ? p[c * ldm + r] : p[r * ldm + c]);
}

// An accumulator's memory layout is given at the call instead of in its type.
template <int M, int N, int K>
inline void load_matrix_sync(fragment<accumulator, M, N, K, float>& f, const float* p, unsigned ldm, layout_t layout) {
    sdj_emu_check_wmma("load_matrix_sync", p, ldm);
    for (int r = 0; r < M; r++)
        for (int c = 0; c < N; c++) f.x[r * N + c] = layout == mem_row_major ? p[r * ldm + c] : p[c * ldm + r];
}

template <int M, int N, int K, typename TA, typename LA, typename TB, typename LB>
inline void mma_sync(fragment<accumulator, M, N, K, float>& d, const fragment<matrix_a, M, N, K, TA, LA>& a,
                     const fragment<matrix_b, M, N, K, TB, LB>& b, const fragment<accumulator, M, N, K, float>& c) {
    constexpr int PER_LANE = M * N / 32;
    float part[PER_LANE];
    int first = sdj_emu_lane() * PER_LANE;
    for (int e = 0; e < PER_LANE; e++) {
        int i = (first + e) / N, j = (first + e) % N;
        float s = c.x[i * N + j];
        for (int k = 0; k < K; k++) s = fmaf(a.x[i * K + k], b.x[k * N + j], s);
        part[e] = s;
    }
    sdj_emu_warp_gather(part, PER_LANE, d.x);
}

template <int M, int N, int K>
inline void store_matrix_sync(float* p, const fragment<accumulator, M, N, K, float>& f, unsigned ldm, layout_t layout) {
    sdj_emu_check_wmma("store_matrix_sync", p, ldm);
    for (int r = 0; r < M; r++)
        for (int c = 0; c < N; c++) {
            float v = f.x[r * N + c];
            if (layout == mem_row_major) p[r * ldm + c] = v; else p[c * ldm + r] = v;
        }
}
}  // namespace wmma
}  // namespace nvcuda
