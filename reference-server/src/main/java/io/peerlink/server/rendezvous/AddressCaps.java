package io.peerlink.server.rendezvous;

import java.net.InetAddress;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Open control connections per source IP address, capped: one host cannot take the server's
 * whole connection budget (Jetty's {@code ConnectionLimit} caps the total). Thread-safe.
 */
public final class AddressCaps {
    private final int perAddress;
    private final ConcurrentHashMap<InetAddress, AtomicInteger> open = new ConcurrentHashMap<>();

    /** @param perAddress most open connections from one address */
    public AddressCaps(int perAddress) {
        this.perAddress = perAddress;
    }

    /** @return the cap */
    public int perAddress() {
        return perAddress;
    }

    /** @param address a new connection's source @return true if it may stay (then {@link #release} it once) */
    boolean tryAcquire(InetAddress address) {
        AtomicInteger n = open.computeIfAbsent(address, a -> new AtomicInteger());
        if (n.incrementAndGet() > perAddress) {
            release(address);
            return false;
        }
        return true;
    }

    /** @param address the source of a connection that was acquired and has closed */
    void release(InetAddress address) {
        open.computeIfPresent(address, (a, n) -> n.decrementAndGet() <= 0 ? null : n);
    }

    /** @param address a source @return its open connections */
    public int openFrom(InetAddress address) {
        AtomicInteger n = open.get(address);
        return n == null ? 0 : n.get();
    }
}
