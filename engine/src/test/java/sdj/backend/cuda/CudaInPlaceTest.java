package sdj.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static sdj.backend.cuda.CudaTestSupport.random;
import static sdj.backend.cuda.CudaTestSupport.rounded;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import sdj.ops.InPlace;
import sdj.tensor.DType;
import sdj.tensor.Device;
import sdj.tensor.Tensor;

/** The in-place updates on device tensors against their CPU twins, through strided views and in each dtype. */
class CudaInPlaceTest {
    @BeforeEach
    void gpu() {
        CudaTestSupport.opsOrSkip();
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void addMulCopyZeroMatchTheCpu(DType dtype) {
        float[] base = rounded(random(1, 24, 1f), dtype);
        float[] step = rounded(random(2, 24, 1f), dtype);
        Tensor cpu = Tensor.of(base.clone(), 4, 6);
        Tensor gpu = cpu.to(Device.CUDA, dtype);
        Tensor s = Tensor.of(step, 6, 4).transpose(0, 1).narrow(1, 1, 4); // a strided [4, 4] source
        // through a transposed, narrowed view of the target
        for (Tensor t : new Tensor[] {cpu, gpu}) {
            Tensor view = t.transpose(0, 1).narrow(0, 1, 4); // [4, 4] of columns 1..4
            Tensor src = t.isCuda() ? s.to(Device.CUDA, dtype) : s;
            InPlace.add_(view, src, -0.25f);
            InPlace.mul_(t.narrow(0, 2, 1), 3f);
            InPlace.copy_(t.narrow(1, 5, 1), t.isCuda() ? Tensor.of(new float[] {9}, 1).to(Device.CUDA, dtype)
                    : Tensor.of(new float[] {9}, 1));
            InPlace.zero_(t.narrow(0, 3, 1).narrow(1, 0, 2));
        }
        float[] want = rounded(cpu.floats(), dtype);
        float[] got = gpu.cpu().to(DType.F32).floats();
        float tol = dtype == DType.F32 ? 1e-6f : dtype == DType.F16 ? 1e-2f : 1e-1f; // device rounds after each step, values up to ~4
        assertArrayEquals(want, got, tol);
    }
}
