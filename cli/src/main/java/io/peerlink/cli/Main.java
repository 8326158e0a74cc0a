package io.peerlink.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code peerlink} launcher: {@code server}, {@code device ...} and {@code demo}. See
 * docs/cli.md. Every line meant for scripts starts with a keyword ({@code device-id},
 * {@code registered}, {@code path}, {@code sent}, {@code received}, {@code rtt},
 * {@code unreachable}, {@code error}).
 */
@Command(name = "peerlink", mixinStandardHelpOptions = true, version = "PeerLink 0.1.0",
        scope = CommandLine.ScopeType.INHERIT, // every subcommand takes -h/--help (usage errors point there)
        description = "Direct, reliable links between devices behind NATs.",
        subcommands = {ServerCommand.class, DeviceCommand.class, DemoCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Option(names = {"-v", "--verbose"}, scope = CommandLine.ScopeType.INHERIT,
            description = "Log link set-up details (candidates, introductions, probes) to stderr")
    void verbose(boolean on) {
        if (on) {
            java.util.logging.Logger log = java.util.logging.Logger.getLogger("io.peerlink");
            log.setLevel(java.util.logging.Level.FINE);
            java.util.logging.ConsoleHandler h = new java.util.logging.ConsoleHandler();
            h.setLevel(java.util.logging.Level.FINE);
            log.addHandler(h);
            VERBOSE_LOGGER.set(log);
        }
    }

    /** Keeps the configured logger reachable so its level is not garbage-collected away. */
    private static final java.util.concurrent.atomic.AtomicReference<java.util.logging.Logger> VERBOSE_LOGGER =
            new java.util.concurrent.atomic.AtomicReference<>();

    /**
     * @param args command line
     */
    public static void main(String[] args) {
        // One line per log record (level and message), not the JDK's two-line default with a timestamp;
        // an operator's own -Djava.util.logging.SimpleFormatter.format wins.
        if (System.getProperty("java.util.logging.SimpleFormatter.format") == null) {
            System.setProperty("java.util.logging.SimpleFormatter.format", "%4$s: %5$s%6$s%n");
        }
        System.exit(run(args));
    }

    /**
     * Runs a command without exiting (tests, embedding).
     *
     * @param args command line
     * @return the exit code
     */
    public static int run(String... args) {
        return run(System.out, System.err, args);
    }

    /**
     * Runs a command with the given streams for picocli's own output (tests).
     *
     * @param out standard output
     * @param err standard error
     * @param args command line
     * @return the exit code: 0 ok, 1 failed, 2 usage mistake, 3 peer unreachable
     */
    public static int run(java.io.PrintStream out, java.io.PrintStream err, String... args) {
        boolean verbose = java.util.Arrays.stream(args).anyMatch(a -> a.equals("-v") || a.equals("--verbose"));
        java.io.PrintWriter errWriter = new java.io.PrintWriter(err, true);
        CommandLine cl = new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true)
                .setOut(new java.io.PrintWriter(out, true)).setErr(errWriter);
        // A usage mistake: one line saying what is wrong and where the help is, not the whole usage text.
        cl.setParameterExceptionHandler((e, a) -> {
            String command = e.getCommandLine().getCommandSpec().qualifiedName(" ");
            errWriter.println("peerlink: " + e.getMessage() + " (see '" + command + " --help')");
            return EXIT_USAGE;
        });
        // Anything that goes wrong while running: one line with the cause, the stack trace only with -v.
        cl.setExecutionExceptionHandler((e, c, parsed) -> {
            errWriter.println("peerlink: " + Errors.oneLine(e));
            if (verbose) {
                e.printStackTrace(errWriter);
            }
            return EXIT_FAILED;
        });
        return cl.execute(args);
    }

    /** Exit code: the command failed (environment, server, I/O). */
    static final int EXIT_FAILED = 1;
    /** Exit code: the command line is wrong. */
    static final int EXIT_USAGE = 2;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "name a command: server, device or demo");
    }
}
