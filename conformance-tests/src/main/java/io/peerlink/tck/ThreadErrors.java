package io.peerlink.tck;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Errors raised on threads the test does not own (the transport's receive thread, senders the
 * suite starts). JUnit only sees exceptions of the test thread, so these are collected and
 * rethrown when the test ends: the first one, with the others attached as suppressed.
 */
final class ThreadErrors {

    private final List<Throwable> errors = new CopyOnWriteArrayList<>();

    void add(Throwable error) {
        errors.add(error);
    }

    boolean isEmpty() {
        return errors.isEmpty();
    }

    /** @throws Throwable the first collected error, others suppressed, if any */
    void rethrow() throws Throwable {
        if (errors.isEmpty()) {
            return;
        }
        Throwable first = errors.get(0);
        AssertionError report = new AssertionError(errors.size() + " error(s) on transport or helper threads; first: "
                + first.getMessage(), first);
        for (int i = 1; i < errors.size(); i++) {
            report.addSuppressed(errors.get(i));
        }
        errors.clear();
        throw report;
    }
}
