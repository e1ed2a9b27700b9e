package sdj.backend.cuda;

import jcuda.driver.CUstream;

/** A CUDA stream whose raw handle can be passed to native libraries (cuBLASLt) through FFM. */
final class StreamHandle extends CUstream {
    long address() {
        return getNativePointer();
    }
}
