package io.peerlink.gateway;

import java.time.Duration;
import java.util.Objects;

/**
 * Timings and limits of the gateway endpoint (docs/gateway.md, "Limits").
 *
 * @param heartbeatInterval how often gateways are told to send {@code heartbeat} (default 30 s)
 * @param missedHeartbeats a gateway silent for {@code heartbeatInterval × missedHeartbeats} is offline
 * @param nonceTtl how long an authentication challenge may be answered
 * @param authTimeout a connection that has not authenticated by then is closed
 * @param maxJsonBytes largest JSON argument of one event (UTF-8 bytes of its text form)
 * @param maxAttachmentBytes largest binary attachment of one telemetry event
 * @param connectsPerSecond new connections accepted per remote address per second (token bucket rate)
 * @param connectBurst token bucket size for new connections per remote address
 * @param eventsPerSecond events accepted per connection per second
 * @param eventBurst token bucket size for events per connection
 * @param maxAuthFailures failed authentication attempts after which the connection is closed
 * @param maxDevicesPerGateway devices one gateway may register (bounds the memory a gateway can claim)
 */
public record GatewayLimits(Duration heartbeatInterval, int missedHeartbeats, Duration nonceTtl, Duration authTimeout,
                            int maxJsonBytes, int maxAttachmentBytes, double connectsPerSecond, int connectBurst,
                            double eventsPerSecond, int eventBurst, int maxAuthFailures,
                            int maxDevicesPerGateway) {

    public static final GatewayLimits DEFAULTS = new GatewayLimits(Duration.ofSeconds(30), 2, Duration.ofSeconds(30),
            Duration.ofSeconds(10), 64 * 1024, 1024 * 1024, 5, 20, 200, 400, 3, 10_000);

    public GatewayLimits {
        Objects.requireNonNull(heartbeatInterval, "heartbeatInterval");
        Objects.requireNonNull(nonceTtl, "nonceTtl");
        Objects.requireNonNull(authTimeout, "authTimeout");
        positive(heartbeatInterval, "heartbeatInterval");
        positive(nonceTtl, "nonceTtl");
        positive(authTimeout, "authTimeout");
        if (missedHeartbeats < 1 || maxJsonBytes < 256 || maxAttachmentBytes < 0 || connectsPerSecond <= 0
                || connectBurst < 1 || eventsPerSecond <= 0 || eventBurst < 1 || maxAuthFailures < 1
                || maxDevicesPerGateway < 1) {
            throw new IllegalArgumentException("limit out of range: " + this);
        }
    }

    /** The largest transport message the endpoint accepts: one event with a full JSON argument and attachment. */
    public int maxMessageBytes() {
        return maxJsonBytes + maxAttachmentBytes + 4096;
    }

    public GatewayLimits withHeartbeat(Duration interval, int missed) {
        return new GatewayLimits(interval, missed, nonceTtl, authTimeout, maxJsonBytes, maxAttachmentBytes,
                connectsPerSecond, connectBurst, eventsPerSecond, eventBurst, maxAuthFailures, maxDevicesPerGateway);
    }

    public GatewayLimits withConnectRate(double perSecond, int burst) {
        return new GatewayLimits(heartbeatInterval, missedHeartbeats, nonceTtl, authTimeout, maxJsonBytes,
                maxAttachmentBytes, perSecond, burst, eventsPerSecond, eventBurst, maxAuthFailures, maxDevicesPerGateway);
    }

    public GatewayLimits withEventRate(double perSecond, int burst) {
        return new GatewayLimits(heartbeatInterval, missedHeartbeats, nonceTtl, authTimeout, maxJsonBytes,
                maxAttachmentBytes, connectsPerSecond, connectBurst, perSecond, burst, maxAuthFailures, maxDevicesPerGateway);
    }

    public GatewayLimits withNonceTtl(Duration ttl) {
        return new GatewayLimits(heartbeatInterval, missedHeartbeats, ttl, authTimeout, maxJsonBytes,
                maxAttachmentBytes, connectsPerSecond, connectBurst, eventsPerSecond, eventBurst, maxAuthFailures, maxDevicesPerGateway);
    }

    public GatewayLimits withMaxDevicesPerGateway(int max) {
        return new GatewayLimits(heartbeatInterval, missedHeartbeats, nonceTtl, authTimeout, maxJsonBytes,
                maxAttachmentBytes, connectsPerSecond, connectBurst, eventsPerSecond, eventBurst, maxAuthFailures, max);
    }

    private static void positive(Duration d, String name) {
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(name + " must be positive: " + d);
        }
    }
}
