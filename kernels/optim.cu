// Optimizer updates, in place. adamw_step: torch 1.13's AdamW (_single_tensor_adamw) for one tensor: the
// parameter in its dtype (f32/f16/bf16), the fp32 gradient and the fp32 moments m (exp_avg) and v (exp_avg_sq).
// Launch shape: 1-D grid-stride loop, 256 threads per block (LaunchShape.elementwise).
// CPU twin: sdj.backend.cpu.CpuOptim.adamw: the same float32 operations in the same order, each rounded on
// its own (no contraction into fma except where torch's CPU kernel uses one), so the two agree bit for bit.
#include "common.cuh"

// nvcc contracts a*b + c into an fma by default; these keep each product and sum rounded on its own.
// The host emulator (g++ without -mfma) never contracts, so plain operators are the same there.
#ifdef __CUDA_ARCH__
__device__ __forceinline__ float mul_rn(float a, float b) { return __fmul_rn(a, b); }
__device__ __forceinline__ float add_rn(float a, float b) { return __fadd_rn(a, b); }
__device__ __forceinline__ float div_rn(float a, float b) { return __fdiv_rn(a, b); }
__device__ __forceinline__ float sqrt_rn(float a) { return __fsqrt_rn(a); }
#else
__device__ __forceinline__ float mul_rn(float a, float b) { return a * b; }
__device__ __forceinline__ float add_rn(float a, float b) { return a + b; }
__device__ __forceinline__ float div_rn(float a, float b) { return a / b; }
__device__ __forceinline__ float sqrt_rn(float a) { return sqrtf(a); }
#endif

// The scalars come from sdj.tensor.AdamWStep (computed in double on the host, rounded to float once).
template <typename T>
__device__ void adamw_step_impl(T* param, const float* grad, float* m, float* v, long long n, float decay,
                                float beta1, float one_minus_beta1, float beta2, float one_minus_beta2,
                                float bias_correction2_sqrt, float eps, float neg_step_size) {
    FOR_EACH_INDEX(i, n) {
        float g = grad[i];
        float p = mul_rn(to_f32(param[i]), decay);                                  // param.mul_(1 - lr*wd)
        float mi = fmaf(g, one_minus_beta1, mul_rn(m[i], beta1));                   // mul_(b1).add_(g, alpha): fmadd
        float vi = add_rn(mul_rn(v[i], beta2), mul_rn(mul_rn(one_minus_beta2, g), g));  // mul_(b2).addcmul_(g, g)
        float denom = add_rn(div_rn(sqrt_rn(vi), bias_correction2_sqrt), eps);      // (sqrt(v) / bc2).add_(eps)
        p = add_rn(p, div_rn(mul_rn(neg_step_size, mi), denom));                   // addcdiv_(m, denom, -step)
        m[i] = mi;
        v[i] = vi;
        param[i] = from_f32<T>(p);
    }
}

#define OPTIM_KERNELS(suffix, T)                                                                                \
    extern "C" __global__ void adamw_step_##suffix(T* param, const float* grad, float* m, float* v,           \
            long long n, float decay, float beta1, float one_minus_beta1, float beta2, float one_minus_beta2,   \
            float bias_correction2_sqrt, float eps, float neg_step_size) {                                      \
        adamw_step_impl<T>(param, grad, m, v, n, decay, beta1, one_minus_beta1, beta2, one_minus_beta2,       \
                           bias_correction2_sqrt, eps, neg_step_size);                                         \
    }
FOR_EACH_DTYPE(OPTIM_KERNELS)
