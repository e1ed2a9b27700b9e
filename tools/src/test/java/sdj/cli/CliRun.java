package sdj.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/** Runs `sdj` in-process with stdout and stderr captured. */
record CliRun(int status, String out, String err) {
    static synchronized CliRun sdj(String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int status = Sdj.run(args);
            return new CliRun(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    /** As {@link #sdj}, with {@code sdj.root} (where ./sdj finds models/) set to {@code root} for the run. */
    static synchronized CliRun sdjWithRoot(String root, String... args) {
        String oldRoot = System.getProperty("sdj.root");
        System.setProperty("sdj.root", root);
        try {
            return sdj(args);
        } finally {
            if (oldRoot == null) {
                System.clearProperty("sdj.root");
            } else {
                System.setProperty("sdj.root", oldRoot);
            }
        }
    }
}
