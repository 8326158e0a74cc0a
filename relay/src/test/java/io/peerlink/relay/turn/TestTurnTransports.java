package io.peerlink.relay.turn;

import io.peerlink.spi.Transport;
import io.peerlink.spi.TransportConfig;
import io.peerlink.spi.TransportProvider;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The {@code turn} transport with a test's credentials and timers, for Devices built with
 * {@code transport(turn://server, TestTurnTransports.class.getName())}: the device builder passes
 * no transport options (the rendezvous minting them per link is issue 7's other part).
 */
public final class TestTurnTransports implements TransportProvider {
    private static volatile String secret;
    private static volatile long checkIntervalMillis = 5_000;
    private static volatile long reallocateTimeoutMillis = 15_000;
    private static final AtomicInteger DEVICES = new AtomicInteger();

    /** For ServiceLoader. */
    public TestTurnTransports() {
    }

    static void configure(String sharedSecret, long checkInterval, long reallocateTimeout) {
        secret = sharedSecret;
        checkIntervalMillis = checkInterval;
        reallocateTimeoutMillis = reallocateTimeout;
    }

    @Override
    public String scheme() {
        return TurnTransportProvider.SCHEME;
    }

    @Override
    public Transport create(TransportConfig config) {
        return new TurnTransportProvider().create(TransportConfig.bind(config.bindEndpoint())
                .set(TurnOptions.SECRET, secret).set(TurnOptions.DEVICE_ID, "test-device-" + DEVICES.incrementAndGet())
                .set(TurnOptions.PERMIT, "127.0.0.1")
                .set(TurnOptions.CHECK_INTERVAL_MILLIS, checkIntervalMillis)
                .set(TurnOptions.REALLOCATE_TIMEOUT_MILLIS, reallocateTimeoutMillis).build());
    }
}
