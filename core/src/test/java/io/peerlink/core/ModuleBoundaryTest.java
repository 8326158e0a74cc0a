package io.peerlink.core;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Nothing outside {@code core} may use {@code io.peerlink.core.internal}: applications use
 * {@code io.peerlink} (api), plugins {@code io.peerlink.spi}, servers and tools the exported
 * {@code io.peerlink.protocol} (docs/architecture.md). {@code module-info} enforces it on the
 * module path; this test enforces it for class-path code too (tests, benchmarks, tools), by
 * reading every Java source of the other modules (comment lines aside).
 *
 * <p>{@link #NOT_YET_MOVED} lists the files that still do, each with why: the list may only
 * shrink. A new use fails; so does a listed file that no longer needs its entry.
 */
class ModuleBoundaryTest {
    private static final String INTERNAL = "io.peerlink.core.internal";

    /** Known uses, relative to the repository root, and why they are still there. */
    private static final Map<String, String> NOT_YET_MOVED = Map.ofEntries(
            Map.entry("benchmarks/src/main/java/io/peerlink/bench/e2e/LoopbackBulk.java", "drives ChannelEngine directly (unsealed baseline)"),
            Map.entry("reference-server/src/test/java/io/peerlink/server/TestDevice.java", "drives core's RendezvousClient"),
            Map.entry("reference-server/src/test/java/io/peerlink/server/MetricsTest.java", "reads core's Introduction"),
            Map.entry("reference-server/src/test/java/io/peerlink/server/ReferenceServerTest.java", "reads core's Introduction"));

    @Test
    void nothingOutsideCoreUsesCoreInternals() throws IOException {
        Path core = Path.of("").toAbsolutePath();
        Path root = core.getParent();
        assertTrue(Files.isRegularFile(root.resolve("pom.xml")) && Files.isDirectory(root.resolve("core")),
                "expected to run in core/ of the repository, not " + core);
        List<String> violations = new ArrayList<>();
        TreeSet<String> using = new TreeSet<>();
        try (Stream<Path> files = Files.walk(root)) {
            files.filter(p -> p.toString().endsWith(".java"))
                    .filter(p -> !excluded(root.relativize(p)))
                    .forEach(p -> {
                        String rel = root.relativize(p).toString().replace('\\', '/');
                        List<String> lines = read(p);
                        for (int i = 0; i < lines.size(); i++) {
                            String line = lines.get(i).strip();
                            boolean comment = line.startsWith("*") || line.startsWith("//") || line.startsWith("/*");
                            if (!comment && line.contains(INTERNAL)) {
                                using.add(rel);
                                if (!NOT_YET_MOVED.containsKey(rel)) {
                                    violations.add(rel + ":" + (i + 1) + ": " + lines.get(i).strip());
                                }
                            }
                        }
                    });
        }
        assertTrue(violations.isEmpty(), "code outside core uses " + INTERNAL
                + " (use io.peerlink, io.peerlink.spi or io.peerlink.protocol; see docs/architecture.md):\n"
                + String.join("\n", violations));
        List<String> stale = NOT_YET_MOVED.keySet().stream().filter(f -> !using.contains(f)).sorted().toList();
        assertTrue(stale.isEmpty(), "no longer use " + INTERNAL + ", remove them from NOT_YET_MOVED: " + stale);
    }

    private static boolean excluded(Path relative) {
        String first = relative.getName(0).toString();
        if (first.equals("core") || first.startsWith(".")) {
            return true;
        }
        for (Path part : relative) {
            String name = part.toString();
            if (name.equals("target") || name.equals("node_modules")) {
                return true;
            }
        }
        return false;
    }

    private static List<String> read(Path p) {
        try {
            return Files.readAllLines(p);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + p, e);
        }
    }
}
