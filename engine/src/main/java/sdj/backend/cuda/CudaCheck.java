package sdj.backend.cuda;

import jcuda.driver.CUresult;

/** Turns CUDA driver result codes into exceptions that name the call that failed. */
final class CudaCheck {
    private CudaCheck() {
    }

    static void ok(int result, String call) {
        if (result != CUresult.CUDA_SUCCESS) {
            throw new CudaException(call + " failed: " + CUresult.stringFor(result) + " (" + result + ")");
        }
    }
}
