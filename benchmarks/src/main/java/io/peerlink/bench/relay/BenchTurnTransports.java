package io.peerlink.bench.relay;

import io.peerlink.relay.turn.TurnOptions;
import io.peerlink.relay.turn.TurnTransportProvider;
import io.peerlink.spi.Transport;
import io.peerlink.spi.TransportConfig;
import io.peerlink.spi.TransportProvider;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The {@code turn} transport with the benchmark's credentials: the device builder has no way yet to
 * pass transport options (the rendezvous minting TURN credentials per link is issue 7's other part),
 * so a harness names this provider ({@code Device.Builder.transport(turn://server, BenchTurnTransports.class.getName())})
 * after {@link #configure}. Each transport gets its own REST user ID and permits loopback peers.
 */
public final class BenchTurnTransports implements TransportProvider {
    private static volatile String secret;
    private static volatile String leg = "udp";
    private static volatile boolean batching = true;
    private static final AtomicInteger DEVICES = new AtomicInteger();

    /** For {@link java.util.ServiceLoader}. */
    public BenchTurnTransports() {
    }

    /**
     * @param sharedSecret the TURN REST API secret of the servers under test
     * @param legProtocol {@code udp}, {@code tcp} or {@code tls}
     */
    public static void configure(String sharedSecret, String legProtocol) {
        configure(sharedSecret, legProtocol, true);
    }

    /**
     * As {@link #configure(String, String)}; {@code legBatching} false sets {@code turn.batching=false}
     * (one system call per datagram on a UDP leg).
     */
    public static void configure(String sharedSecret, String legProtocol, boolean legBatching) {
        secret = sharedSecret;
        leg = legProtocol;
        batching = legBatching;
    }

    @Override
    public String scheme() {
        return TurnTransportProvider.SCHEME;
    }

    @Override
    public Transport create(TransportConfig config) {
        String s = secret;
        if (s == null) {
            throw new IllegalStateException("BenchTurnTransports.configure(secret, leg) was not called");
        }
        return new TurnTransportProvider().create(TransportConfig.bind(config.bindEndpoint())
                .set(TurnOptions.SECRET, s).set(TurnOptions.LEG, leg).set(TurnOptions.BATCHING, batching)
                .set(TurnOptions.DEVICE_ID, "bench-device-" + DEVICES.incrementAndGet())
                .set(TurnOptions.PERMIT, "127.0.0.1").build());
    }
}
