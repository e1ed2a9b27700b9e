package sdj.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * How a GEMM is described to cuBLASLt (which CI cannot run): the pointer alignments its heuristic is
 * told (it assumes 256 bytes unless told) and the column-major layouts of our row-major operands.
 */
class CublasLtPlanTest {
    private static final long BASE = 0x7f00_0000_0000L;

    @Test
    void anAllocationStartIsTakenAsTheDefault256Bytes() {
        assertEquals(256, CublasLt.alignment(BASE, 0));
        assertEquals(256, CublasLt.alignment(BASE + 0x1200, 0)); // 512-byte aligned: capped at 256
    }

    @Test
    void aViewInsideAnAllocationHasItsOffsetsAlignment() {
        // the second half of a GEGLU projection row of 1280 fp16 values starts 2560 bytes in: 512-aligned
        assertEquals(256, CublasLt.alignment(BASE + 2560, 0));
        // head 1 of 8 with d = 40 in fp16 starts 80 bytes in
        assertEquals(16, CublasLt.alignment(BASE + 80, 0));
        // an odd fp16 element offset
        assertEquals(2, CublasLt.alignment(BASE + 6, 0));
    }

    @Test
    void everyMatrixOfABatchMustBeAligned() {
        // 77 tokens × 40 fp16 values = 6160 bytes between matrices: only 16-byte aligned
        assertEquals(16, CublasLt.alignment(BASE, 6160));
        // and the same for every matrix of that batch, whichever one a call starts at
        for (int i = 0; i < 8; i++) {
            assertEquals(16, CublasLt.alignment(BASE + i * 6160L, 6160));
        }
        // a shared operand (stride 0) keeps its own alignment
        assertEquals(256, CublasLt.alignment(BASE, 0));
    }

    private static final DevicePtr P = new DevicePtr(BASE);

    @Test
    void aRowMajorMatrixIsItsTransposeInColumnMajor() {
        // A [M=77, K=40] row-major is a 40×77 column-major matrix with ld 40, not transposed
        assertEquals(new CublasLt.Operand(40, 77, 40, false, 0), CublasLt.columnMajor(new GemmOperand(P, 40, 1, 0), 77, 40));
        // Aᵀ read from a [K=40, M=77] buffer: columns strided by 77, so the 77×40 column-major matrix, transposed
        assertEquals(new CublasLt.Operand(77, 40, 77, true, 0), CublasLt.columnMajor(new GemmOperand(P, 1, 77, 0), 77, 40));
    }

    @Test
    void aSingleColumnGetsALeadingDimensionOfAtLeastItsRows() {
        // B [K=1, N=320] transposed from a [320, 1] buffer: both strides are 1 and the column-major view is
        // 320×1; ld 1 < 320 would be refused although a single column never uses it
        CublasLt.Operand o = CublasLt.columnMajor(new GemmOperand(P, 1, 1, 0), 1, 320);
        assertEquals(320, o.rows());
        assertEquals(1, o.cols());
        assertEquals(320, o.ld());
        // a single row keeps ld 1, which is valid for one row
        CublasLt.Operand row = CublasLt.columnMajor(new GemmOperand(P, 1, 1, 0), 320, 1);
        assertEquals(1, row.rows());
        assertEquals(1, row.ld());
    }
}
