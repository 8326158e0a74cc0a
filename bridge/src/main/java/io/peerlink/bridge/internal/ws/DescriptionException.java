package io.peerlink.bridge.internal.ws;

import java.util.List;

/** A description file that cannot be turned into virtual resources; {@link #problems()} says why. */
public final class DescriptionException extends Exception {
    private static final long serialVersionUID = 1L;
    private final List<String> problems;

    /** @param problems what is wrong, one line each */
    public DescriptionException(List<String> problems) {
        super(String.join("; ", problems));
        this.problems = List.copyOf(problems);
    }

    /** @return what is wrong, one line each */
    public List<String> problems() {
        return problems;
    }
}
