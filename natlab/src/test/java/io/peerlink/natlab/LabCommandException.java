package io.peerlink.natlab;

import java.util.List;

/** A command the lab ran (ip, iptables, sysctl, ...) failed or could not be started. */
public final class LabCommandException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final List<String> command;
    private final int exitCode;

    LabCommandException(List<String> command, int exitCode, String detail) {
        super("command " + String.join(" ", command) + " failed with exit code " + exitCode
                + (detail.isBlank() ? "" : ": " + detail.strip()));
        this.command = List.copyOf(command);
        this.exitCode = exitCode;
    }

    LabCommandException(List<String> command, String detail, Throwable cause) {
        super("command " + String.join(" ", command) + " could not run: " + detail, cause);
        this.command = List.copyOf(command);
        this.exitCode = -1;
    }

    /** The command line as executed. */
    public List<String> command() {
        return command;
    }

    /** The exit code, or -1 when the command could not be run or timed out. */
    public int exitCode() {
        return exitCode;
    }
}
