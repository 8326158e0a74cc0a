package io.peerlink.natlab.tools;

import java.io.IOException;
import java.util.concurrent.TimeUnit;

/** Starts a long {@code sleep} child, prints {@code CHILD <pid>}, then waits: a process tree for kill tests. */
public final class ForkingSleeper {
    private ForkingSleeper() {
    }

    public static void main(String[] args) throws IOException, InterruptedException {
        Process child = new ProcessBuilder("sleep", "300").start();
        System.out.println("CHILD " + child.pid());
        child.waitFor(300, TimeUnit.SECONDS);
    }
}
