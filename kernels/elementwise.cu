// Elementwise kernels: activations and math functions (forward and backward), binary ops with channel/suffix
// broadcasting, affine scalar maps, GEGLU, and dtype casts.
// Launch shape for all: 1-D grid-stride loop, 256 threads per block; the host caps the grid size
// and the loop covers the rest.
// CPU twin: sdj.backend.cpu.CpuUnary (activations, affine), CpuBinary (binary ops), CpuGeglu; casts: Tensor.to(DType); the CUDA tests compare the two.
#include "common.cuh"

// Activation codes; sdj.backend.cuda.Activation mirrors these numbers.
#define ACT_SILU 0
#define ACT_GELU 1
#define ACT_GELU_TANH 2
#define ACT_QUICK_GELU 3
#define ACT_SIGMOID 4
#define ACT_TANH 5
#define ACT_EXP 6
#define ACT_LOG 7
#define ACT_SQRT 8
#define ACT_RSQRT 9
#define ACT_POW 10  // x^p, p the kernels' float parameter (unused by the other ops)

#define SQRT_2_OVER_PI 0.7978845608028654f
#define INV_SQRT_2 0.7071067811865476f
#define INV_SQRT_2PI 0.3989422804014327f

// powf with java.lang.Math.pow's special cases where C differs: a NaN exponent, or |x| == 1 with an
// infinite one, give NaN in Java (C gives 1 for pow(1, anything) and pow(-1, ±inf)).
__device__ __forceinline__ float pow_like_java(float x, float p) {
    if (isnan(p) || (fabsf(x) == 1.f && isinf(p))) return NAN;
    return powf(x, p);
}

// 1/sqrt(x) as a correctly rounded sqrt and divide, not rsqrtf (2 ulp on the GPU): the CPU computes it
// in double.
__device__ __forceinline__ float rsqrt_f(float x) { return 1.f / sqrtf(x); }

__device__ __forceinline__ float act_forward(int op, float x, float p) {
    switch (op) {
        case ACT_SILU: return x * sigmoid_f(x);
        case ACT_GELU: return 0.5f * x * (1.f + erff(x * INV_SQRT_2));
        case ACT_GELU_TANH: return 0.5f * x * (1.f + tanhf(SQRT_2_OVER_PI * (x + 0.044715f * x * x * x)));
        case ACT_QUICK_GELU: return x * sigmoid_f(1.702f * x);
        case ACT_SIGMOID: return sigmoid_f(x);
        case ACT_TANH: return tanhf(x);
        case ACT_EXP: return expf(x);
        case ACT_LOG: return logf(x);
        case ACT_SQRT: return sqrtf(x);
        case ACT_RSQRT: return rsqrt_f(x);
        default: return pow_like_java(x, p);
    }
}

// d act(x) / dx, the same formulas as sdj.ops.Unary's derivatives; where those read y = act(x), y is
// recomputed from x here.
__device__ __forceinline__ float act_derivative(int op, float x, float p) {
    switch (op) {
        case ACT_SILU: { float s = sigmoid_f(x); return s * (1.f + x * (1.f - s)); }
        case ACT_GELU: return 0.5f * (1.f + erff(x * INV_SQRT_2)) + x * INV_SQRT_2PI * expf(-0.5f * x * x);
        case ACT_GELU_TANH: {
            float t = tanhf(SQRT_2_OVER_PI * (x + 0.044715f * x * x * x));
            float du = SQRT_2_OVER_PI * (1.f + 3.f * 0.044715f * x * x);
            return 0.5f * (1.f + t) + 0.5f * x * (1.f - t * t) * du;
        }
        case ACT_QUICK_GELU: { float s = sigmoid_f(1.702f * x); return s + 1.702f * x * s * (1.f - s); }
        case ACT_SIGMOID: { float s = sigmoid_f(x); return s * (1.f - s); }
        case ACT_TANH: { float t = tanhf(x); return 1.f - t * t; }
        case ACT_EXP: return expf(x);
        case ACT_LOG: return 1.f / x;
        case ACT_SQRT: return 0.5f / sqrtf(x);
        case ACT_RSQRT: { float y = rsqrt_f(x); return -0.5f * y * y * y; }
        default: return p * pow_like_java(x, p - 1.f);
    }
}

// y[i] = act(x[i]); p is pow's exponent
template <typename T>
__device__ void activation_forward_impl(int op, float p, const T* x, T* y, long long n) {
    FOR_EACH_INDEX(i, n) y[i] = from_f32<T>(act_forward(op, to_f32(x[i]), p));
}

// dx[i] = dy[i] * act'(x[i])
template <typename T>
__device__ void activation_backward_impl(int op, float p, const T* x, const T* dy, T* dx, long long n) {
    FOR_EACH_INDEX(i, n) dx[i] = from_f32<T>(to_f32(dy[i]) * act_derivative(op, to_f32(x[i]), p));
}

#define BIN_ADD 0
#define BIN_SUB 1
#define BIN_MUL 2
#define BIN_DIV 3

// out[i] = a[i] op b[(i / inner) % nb]. Same shape: nb = n, inner = 1. Bias over the last dim:
// nb = C, inner = 1. Per-channel over [N, C, H, W]: nb = C, inner = H*W.
template <typename T>
__device__ void binary_forward_impl(int op, const T* a, const T* b, T* out, long long n, long long nb, long long inner) {
    FOR_EACH_INDEX(i, n) {
        float x = to_f32(a[i]);
        float y = to_f32(b[(i / inner) % nb]);
        float r = op == BIN_ADD ? x + y : op == BIN_SUB ? x - y : op == BIN_MUL ? x * y : x / y;
        out[i] = from_f32<T>(r);
    }
}

// y[i] = x[i] * scale + shift (scalar add, scalar mul, negation).
template <typename T>
__device__ void affine_impl(const T* x, T* y, float scale, float shift, long long n) {
    FOR_EACH_INDEX(i, n) y[i] = from_f32<T>(to_f32(x[i]) * scale + shift);
}

// GEGLU of SD's feed-forward: x is [rows, 2F] = [value | gate]; out[r, f] = value * gelu(gate).
template <typename T>
__device__ void geglu_forward_impl(const T* x, T* out, long long rows, long long f) {
    FOR_EACH_INDEX(i, rows * f) {
        long long r = i / f, c = i % f;
        float v = to_f32(x[r * 2 * f + c]);
        float g = to_f32(x[r * 2 * f + f + c]);
        out[i] = from_f32<T>(v * act_forward(ACT_GELU, g, 0.f));
    }
}

// dx[r, :F] = dout * gelu(gate); dx[r, F:] = dout * value * gelu'(gate).
template <typename T>
__device__ void geglu_backward_impl(const T* x, const T* dout, T* dx, long long rows, long long f) {
    FOR_EACH_INDEX(i, rows * f) {
        long long r = i / f, c = i % f;
        float v = to_f32(x[r * 2 * f + c]);
        float g = to_f32(x[r * 2 * f + f + c]);
        float d = to_f32(dout[i]);
        dx[r * 2 * f + c] = from_f32<T>(d * act_forward(ACT_GELU, g, 0.f));
        dx[r * 2 * f + f + c] = from_f32<T>(d * v * act_derivative(ACT_GELU, g, 0.f));
    }
}

#define ELEMENTWISE_ENTRIES(suffix, T)                                                                         \
    extern "C" __global__ void activation_forward_##suffix(int op, float p, const T* x, T* y, long long n) {   \
        activation_forward_impl<T>(op, p, x, y, n);                                                            \
    }                                                                                                          \
    extern "C" __global__ void activation_backward_##suffix(int op, float p, const T* x, const T* dy, T* dx,   \
                                                            long long n) {                                     \
        activation_backward_impl<T>(op, p, x, dy, dx, n);                                                      \
    }                                                                                                          \
    extern "C" __global__ void binary_forward_##suffix(int op, const T* a, const T* b, T* out, long long n,    \
                                                       long long nb, long long inner) {                        \
        binary_forward_impl<T>(op, a, b, out, n, nb, inner);                                                   \
    }                                                                                                          \
    extern "C" __global__ void affine_##suffix(const T* x, T* y, float scale, float shift, long long n) {      \
        affine_impl<T>(x, y, scale, shift, n);                                                                 \
    }                                                                                                          \
    extern "C" __global__ void geglu_forward_##suffix(const T* x, T* out, long long rows, long long f) {       \
        geglu_forward_impl<T>(x, out, rows, f);                                                                \
    }                                                                                                          \
    extern "C" __global__ void geglu_backward_##suffix(const T* x, const T* dout, T* dx, long long rows,       \
                                                       long long f) {                                          \
        geglu_backward_impl<T>(x, dout, dx, rows, f);                                                          \
    }
FOR_EACH_DTYPE(ELEMENTWISE_ENTRIES)

// Dtype conversion with round-to-nearest-even, used when weights are uploaded at a lower precision
// and when results go back to fp32.
template <typename S, typename D>
__device__ void cast_impl(const S* x, D* y, long long n) {
    FOR_EACH_INDEX(i, n) y[i] = from_f32<D>(to_f32(x[i]));
}
extern "C" __global__ void cast_f32_to_f16(const float* x, __half* y, long long n) { cast_impl(x, y, n); }
extern "C" __global__ void cast_f32_to_bf16(const float* x, __nv_bfloat16* y, long long n) { cast_impl(x, y, n); }
extern "C" __global__ void cast_f16_to_f32(const __half* x, float* y, long long n) { cast_impl(x, y, n); }
extern "C" __global__ void cast_bf16_to_f32(const __nv_bfloat16* x, float* y, long long n) { cast_impl(x, y, n); }
