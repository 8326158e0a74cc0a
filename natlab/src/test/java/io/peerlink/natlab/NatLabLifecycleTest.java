package io.peerlink.natlab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import io.peerlink.natlab.tools.ForkingSleeper;
import io.peerlink.natlab.tools.LabLeaker;

/** Namespaces never outlive their lab: close, shutdown hook, stale cleanup; processes die with it. */
@NatLabTest
class NatLabLifecycleTest {

    @Test
    void closeDeletesEveryNamespace(NatLab.Builder builder) {
        NatLab lab = builder.site("a", NatKind.DOUBLE_NAT).device("dev1", "a").device("dev2", "a")
                .site("b", NatKind.HAIRPIN).device("dev3", "b").build();
        List<String> created = new ArrayList<>(lab.namespaces().values());
        try {
            assertEquals(List.of("core", "a", "a.cgn", "b", "dev1", "dev2", "dev3"), List.copyOf(lab.namespaces().keySet()));
            assertTrue(NatLab.listNamespaces().containsAll(created), "ip netns list shows " + created);
        } finally {
            lab.close();
        }
        List<String> after = NatLab.listNamespaces();
        created.forEach(ns -> assertFalse(after.contains(ns), ns + " still listed by ip netns list"));
        lab.close(); // idempotent
    }

    @Test
    void buildRemovesStaleNamespacesOfDeadJvms(NatLab.Builder builder) throws IOException, InterruptedException {
        Process finished = new ProcessBuilder("true").start();
        finished.waitFor(10, TimeUnit.SECONDS);
        String stale = "nl" + finished.pid() + "x0-core";
        Commands.check(List.of(Commands.require("ip").toString(), "netns", "add", stale));
        assertTrue(NatLab.listNamespaces().contains(stale));
        try (NatLab lab = builder.site("a", NatKind.PORT_RESTRICTED).build()) {
            assertFalse(NatLab.listNamespaces().contains(stale), "stale namespace of dead pid " + finished.pid() + " survived");
            assertTrue(NatLab.listNamespaces().contains(lab.namespace("core")));
        }
    }

    @Test
    void shutdownHookDeletesNamespacesOfALabNeverClosed() throws IOException, InterruptedException {
        Process leaker = new ProcessBuilder(NatLab.javaCommand(LabLeaker.class.getName(), List.of(), List.of()))
                .redirectErrorStream(true).start();
        List<String> leaked = new ArrayList<>();
        String output = new String(leaker.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(leaker.waitFor(60, TimeUnit.SECONDS));
        for (String line : output.split("\n")) {
            if (line.startsWith("NS ")) {
                leaked.add(line.substring(3).strip());
            }
        }
        assertEquals(0, leaker.exitValue(), output);
        assertEquals(3, leaked.size(), "the child built core, a NAT and a device: " + output);
        List<String> after = NatLab.listNamespaces();
        leaked.forEach(ns -> assertFalse(after.contains(ns), ns + " outlived its JVM"));
    }

    @Test
    void destroyKillsTheWholeProcessTree(NatLab.Builder builder) {
        try (NatLab lab = builder.site("a", NatKind.PORT_RESTRICTED).device("dev1", "a").build()) {
            LabProcess process = lab.startJava("dev1", ForkingSleeper.class.getName(), List.of());
            String line = process.awaitLine(l -> l.startsWith("CHILD "), LabProbe.STARTUP);
            ProcessHandle child = ProcessHandle.of(Long.parseLong(line.substring(6).strip()))
                    .orElseThrow(() -> new AssertionError("child not running: " + line));
            assertTrue(lab.exec("core", "ip", "netns", "identify", String.valueOf(child.pid())).contains(lab.namespace("dev1")),
                    "the child runs inside the device namespace");
            process.destroy();
            assertFalse(process.isAlive());
            assertTrue(child.onExit().orTimeout(10, TimeUnit.SECONDS).join().pid() > 0);
            assertFalse(child.isAlive(), "grandchild survived destroy()");
        }
    }

    @Test
    void execFailsWithTheCommandAndItsErrorOutput(NatLab.Builder builder) {
        try (NatLab lab = builder.site("a", NatKind.PORT_RESTRICTED).build()) {
            LabCommandException e = assertThrows(LabCommandException.class,
                    () -> lab.exec("core", "ip", "link", "show", "dev", "nosuchif"));
            assertTrue(e.getMessage().contains("ip link show dev nosuchif"), e.getMessage());
            assertTrue(e.getMessage().contains("nosuchif\" does not exist"), e.getMessage());
            assertTrue(e.exitCode() != 0);
            assertTrue(lab.exec("core", "ip", "-4", "addr", "show", "dev", "lo").contains("198.51.100.1/32"));
        }
    }

    @Test
    void awaitLineFailsWithTheProcessOutputWhenNothingMatches(NatLab.Builder builder) {
        try (NatLab lab = builder.site("a", NatKind.PORT_RESTRICTED).device("dev1", "a").build()) {
            LabProcess process = lab.startJava("dev1", ForkingSleeper.class.getName(), List.of());
            process.awaitLine(l -> l.startsWith("CHILD "), LabProbe.STARTUP);
            AssertionError e = assertThrows(AssertionError.class, () -> process.awaitLine("never"::equals, Duration.ofMillis(200)));
            assertTrue(e.getMessage().contains("CHILD "), "the message carries the stdout tail: " + e.getMessage());
        }
    }
}
