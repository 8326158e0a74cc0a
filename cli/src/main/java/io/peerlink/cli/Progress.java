package io.peerlink.cli;

import java.io.PrintStream;

/** A transfer progress bar on stderr: redrawn in place on a terminal, a line every 10 % otherwise. */
final class Progress {
    private final PrintStream out;
    private final long total;
    private final long startNanos = System.nanoTime();
    private final boolean terminal = System.console() != null;
    private int lastDecile = -1;
    private long lastDraw;

    Progress(PrintStream out, long total) {
        this.out = out;
        this.total = total;
    }

    void update(long done) {
        int percent = total == 0 ? 100 : (int) (done * 100 / total);
        long now = System.nanoTime();
        if (terminal) {
            if (now - lastDraw < 100_000_000L && done < total) {
                return;
            }
            lastDraw = now;
            int width = 30;
            int filled = percent * width / 100;
            out.print("\r[" + "#".repeat(filled) + " ".repeat(width - filled) + "] " + percent + "% " + rate(done, now));
            if (done >= total) {
                out.println();
            }
        } else if (percent / 10 != lastDecile) {
            lastDecile = percent / 10;
            out.println("progress " + percent + "% " + rate(done, now));
        }
        out.flush();
    }

    private String rate(long done, long now) {
        double seconds = Math.max(1e-9, (now - startNanos) / 1e9);
        return String.format(java.util.Locale.ROOT, "%.2f MiB/s", done / seconds / (1 << 20));
    }
}
