package io.peerlink.cli;

import java.net.BindException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/** Turns a failure into the one line a person can act on (docs/cli.md, "Errors"). */
final class Errors {
    private Errors() {
    }

    /** @param e what went wrong @return one line: what is wrong and, where we know it, what to do */
    static String oneLine(Throwable e) {
        Throwable t = e;
        while ((t instanceof ExecutionException || t instanceof CompletionException
                || (t instanceof java.io.UncheckedIOException)) && t.getCause() != null) {
            t = t.getCause();
        }
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c instanceof BindException) {
                return "a port is already in use (" + c.getMessage() + "); choose another with --http-port / --stun-port, "
                        + "or stop the process that holds it";
            }
            if (c instanceof NoSuchFileException f) {
                return "no such file: " + f.getFile();
            }
            if (c instanceof AccessDeniedException f) {
                return "permission denied: " + f.getFile();
            }
        }
        String message = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
        int nl = message.indexOf('\n');
        return nl < 0 ? message : message.substring(0, nl);
    }
}
