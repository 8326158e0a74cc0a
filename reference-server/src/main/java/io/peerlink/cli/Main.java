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
        description = "Direct, reliable links between devices behind NATs.",
        subcommands = {ServerCommand.class, DeviceCommand.class, DemoCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /**
     * @param args command line
     */
    public static void main(String[] args) {
        System.exit(run(args));
    }

    /**
     * Runs a command without exiting (tests, embedding).
     *
     * @param args command line
     * @return the exit code
     */
    public static int run(String... args) {
        return new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true).execute(args);
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "name a command: server, device or demo");
    }
}
