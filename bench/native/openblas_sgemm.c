/* Native baseline for the sdj GEMM numbers: times OpenBLAS cblas_sgemm (row-major, C = A·B)
 * at the shapes given on the command line and prints the best-of-N GFLOP/s.
 * Build: gcc -O2 -o openblas_sgemm openblas_sgemm.c -lopenblas
 * Run:   OPENBLAS_NUM_THREADS=2 ./openblas_sgemm 1024x1024x1024 4096x320x1280 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        int m, n, k;
        if (sscanf(argv[i], "%dx%dx%d", &m, &n, &k) != 3) {
            fprintf(stderr, "shape must be MxNxK: %s\n", argv[i]);
            return 2;
        }
        float *a = malloc(sizeof(float) * m * k), *b = malloc(sizeof(float) * k * n), *c = malloc(sizeof(float) * m * n);
        for (long j = 0; j < (long) m * k; j++) a[j] = (float) rand() / RAND_MAX - 0.5f;
        for (long j = 0; j < (long) k * n; j++) b[j] = (float) rand() / RAND_MAX - 0.5f;
        double best = 1e30, start = now();
        int calls = 0;
        while (calls < 5 || now() - start < 2.0) { /* best of >= 2 s: the machine is shared */
            double t0 = now();
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a, k, b, n, 0.0f, c, n);
            double t = now() - t0;
            if (t < best) best = t;
            calls++;
        }
        printf("openblas sgemm %dx%dx%d: %.3f ms, %.1f GFLOP/s\n", m, n, k, best * 1e3, 2.0 * m * n * k / best / 1e9);
        free(a); free(b); free(c);
    }
    return 0;
}
