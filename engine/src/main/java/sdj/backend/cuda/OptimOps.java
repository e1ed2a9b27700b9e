package sdj.backend.cuda;

import java.util.Arrays;
import sdj.tensor.AdamWStep;
import sdj.tensor.DType;

/** Launches optim.cu: optimizer updates written into the parameter's and the moments' own device memory. */
final class OptimOps {
    private OptimOps() {
    }

    /** One AdamW update of param (its dtype) with the fp32 gradient and fp32 moments m and v, all of param's shape. */
    static void adamw(CudaTensor param, CudaTensor grad, CudaTensor m, CudaTensor v, AdamWStep s) {
        for (CudaTensor t : new CudaTensor[] {grad, m, v}) {
            if (t.dtype() != DType.F32 || !Arrays.equals(t.shape(), param.shape())) {
                throw new IllegalArgumentException("adamw needs an fp32 gradient and fp32 moments of the parameter's shape "
                        + Arrays.toString(param.shape()) + ", got " + t.dtype() + " " + Arrays.toString(t.shape()));
            }
        }
        param.device().kernel("optim", "adamw_step_" + param.dtype().suffix()).launch(
                LaunchShape.elementwise(param.numel()), param.ptr(), grad.ptr(), m.ptr(), v.ptr(), param.numel(),
                s.decay(), s.beta1F(), s.oneMinusBeta1(), s.beta2F(), s.oneMinusBeta2(), s.biasCorrection2Sqrt(),
                s.epsF(), s.negativeStepSize());
    }
}
