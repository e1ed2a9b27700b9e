package sdj.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class ErfTest {
    @Test
    void erfKnownValues() {
        double[] x = {0.1, 0.49, 0.5, 0.51, 1, 1.5, 2, 3, -0.3};
        double[] erf = {0.1124629160182849, 0.511668261188523, 0.5204998778130465, 0.5292436198411704,
            0.8427007929497149, 0.9661051464753108, 0.9953222650189527, 0.9999779095030014, -0.3286267594591274};
        for (int i = 0; i < x.length; i++) {
            assertEquals(erf[i], Erf.erf(x[i]), 1e-13, "erf(" + x[i] + ")");
            assertEquals(-erf[i], Erf.erf(-x[i]), 1e-13, "erf is odd at " + x[i]);
        }
    }
}
