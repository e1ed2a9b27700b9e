/* Measures the core clock the benchmarks actually run at: a chain of dependent integer adds retires
 * one per cycle, so adds per nanosecond = GHz. Also prints the TSC rate (the nominal clock).
 * Build: gcc -O2 -o clock_probe clock_probe.c */
#include <stdio.h>
#include <time.h>
#include <x86intrin.h>

int main(void) {
    struct timespec a, b;
    long n = 2000000000L;
    unsigned long x = 0;
    unsigned long t0 = __rdtsc();
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (long i = 0; i < n; i++) {
        __asm__ volatile("add $1, %0" : "+r"(x));
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    unsigned long t1 = __rdtsc();
    double s = (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) * 1e-9;
    printf("core clock ~ %.2f GHz (dependent adds per ns), TSC %.3f GHz\n", n / s / 1e9, (t1 - t0) / s / 1e9);
    return x == 0;
}
