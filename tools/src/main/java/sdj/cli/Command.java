package sdj.cli;

import org.apache.commons.cli.Options;

/** One `sdj` subcommand: its name, a one-line summary, its flags and what it does. */
public interface Command {
    String name();

    String summary();

    /** Extra text for the usage line after the flags, e.g. "FILE" for positional arguments. */
    default String positional() {
        return "";
    }

    Options options();

    /** Runs with the parsed flags; returns the process exit status. */
    int run(org.apache.commons.cli.CommandLine cmd) throws Exception;
}
