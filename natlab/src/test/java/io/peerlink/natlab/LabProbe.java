package io.peerlink.natlab;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

import io.peerlink.natlab.tools.Addresses;
import io.peerlink.natlab.tools.UdpProbe;

/** Drives a {@link UdpProbe} JVM in a device namespace. */
final class LabProbe {
    static final Duration STARTUP = Duration.ofSeconds(30);
    static final Duration ANSWER = Duration.ofSeconds(5);
    private static final AtomicLong NONCES = new AtomicLong();

    private final LabProcess process;

    private LabProbe(LabProcess process) {
        this.process = process;
    }

    static LabProbe start(NatLab lab, String device) {
        LabProcess process = lab.startJava(device, UdpProbe.class.getName(), List.of());
        process.awaitLine("READY"::equals, STARTUP);
        return new LabProbe(process);
    }

    void open(int port) {
        process.writeLine("OPEN " + port);
        process.awaitLine(("OPENED " + port)::equals, ANSWER);
    }

    void send(int port, InetSocketAddress to, int ttl, String text) {
        process.writeLine("SEND " + port + " " + to.getAddress().getHostAddress() + " " + to.getPort() + " " + ttl + " " + text);
        process.awaitLine(("SENT " + port + " " + text)::equals, ANSWER);
    }

    /** Asks the reflector for the mapping it observes, with the reply sent from {@code role}'s socket. */
    Optional<InetSocketAddress> ask(int port, InetSocketAddress reflector, String role, Duration timeout) {
        String nonce = "n" + NONCES.incrementAndGet();
        send(port, reflector, 0, role == null ? "WHOAMI " + nonce : "FROM " + role + " " + nonce);
        String prefix = "RECV " + port + " ";
        return process.pollLine(l -> l.startsWith(prefix) && l.contains(" MAPPED " + nonce + " "), timeout)
                .map(l -> Addresses.parse(l.substring(l.lastIndexOf(' ') + 1)));
    }

    /** The public mapping of a local port as the reflector's socket at {@code reflector} sees it. */
    InetSocketAddress mapping(int port, InetSocketAddress reflector) {
        return ask(port, reflector, null, ANSWER).orElseThrow(() -> new AssertionError(
                "no reflector answer on port " + port + " from " + reflector + process.diagnostics()));
    }

    /** The source address of the first datagram with exactly this text received on the port. */
    Optional<InetSocketAddress> received(int port, String text, Duration timeout) {
        String prefix = "RECV " + port + " ";
        return process.pollLine(l -> l.startsWith(prefix) && l.endsWith(" " + text), timeout)
                .map(l -> Addresses.parse(l.substring(prefix.length(), l.indexOf(' ', prefix.length()))));
    }

    LabProcess process() {
        return process;
    }
}
