// Host emulation of the nvcuda::wmma subset gemm.cu uses (16×16×16 tiles, row-major loads, fp32
// accumulators). A real fragment is spread over the 32 lanes of a warp in an unspecified layout; here
// every lane holds the whole tile (as fp32: fp16/bf16 values convert exactly), which is a valid
// layout since load, mma and store are warp-collective. mma_sync splits the 256 outputs over the 32
// lanes and gathers them back, so the warp does the work once, not 32 times. Products accumulate in
// fp32 like the tensor cores do.
#pragma once
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

// Element (r, c) of a row_major operand sits at p[r*ldm + c], of a col_major one at p[c*ldm + r].
template <typename Use, int M, int N, int K, typename T, typename Layout>
inline void load_matrix_sync(fragment<Use, M, N, K, T, Layout>& f, const T* p, unsigned ldm) {
    using Frag = fragment<Use, M, N, K, T, Layout>;
    constexpr bool col = std::is_same<Layout, col_major>::value;
    for (int r = 0; r < Frag::rows; r++)
        for (int c = 0; c < Frag::cols; c++) f.x[r * Frag::cols + c] = to_f32(col ? p[c * ldm + r] : p[r * ldm + c]);
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
    for (int r = 0; r < M; r++)
        for (int c = 0; c < N; c++) {
            float v = f.x[r * N + c];
            if (layout == mem_row_major) p[r * ldm + c] = v; else p[c * ldm + r] = v;
        }
}
}  // namespace wmma
}  // namespace nvcuda
