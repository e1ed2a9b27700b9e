package sdj.bench;

import java.util.SplittableRandom;

/** Repeats a call until a time budget is spent and keeps the best time (the least disturbed run). */
public final class Timing {
    private Timing() {
    }

    public record Result(String label, double flops, double bestSeconds, int calls) {
        public double gflops() {
            return flops / bestSeconds / 1e9;
        }
    }

    public static Result time(String label, double flops, double seconds, Runnable call) {
        call.run(); // warm-up: JIT and caches
        call.run();
        double best = Double.MAX_VALUE;
        int calls = 0;
        long start = System.nanoTime();
        do {
            long t0 = System.nanoTime();
            call.run();
            best = Math.min(best, (System.nanoTime() - t0) / 1e9);
            calls++;
        } while ((System.nanoTime() - start) / 1e9 < seconds || calls < 3);
        return new Result(label, flops, best, calls);
    }

    public static float[] random(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (r.nextDouble() * 2 - 1);
        }
        return v;
    }
}
