package sdj.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The pointer alignments cuBLASLt is told about (its heuristic assumes 256 bytes unless told). */
class CublasLtAlignmentTest {
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
}
