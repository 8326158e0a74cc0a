package io.peerlink.core.internal.crypto;

import java.time.Duration;
import java.util.Objects;

/**
 * When a {@link PacketProtector} updates its sending key, and how long it keeps the previous
 * receiving key for reordered packets.
 *
 * @param interval a key older than this is replaced before the next packet (at most 2 minutes)
 * @param packetLimit a key that sealed this many packets is replaced before the next one; at most
 *        2^22, half of AES-GCM's confidentiality limit of 2^23 packets (RFC 9001, section 6.6), so
 *        that a key whose update is delayed (see {@link PacketProtector}) still stays in bounds
 * @param previousKeyRetention how long a receiver keeps the key generation before the newest one
 */
public record RekeyPolicy(Duration interval, long packetLimit, Duration previousKeyRetention) {
    /** Longest allowed {@link #interval()}. */
    public static final Duration MAX_INTERVAL = Duration.ofMinutes(2);
    /** Largest allowed {@link #packetLimit()}. */
    public static final long MAX_PACKET_LIMIT = 1L << 22;
    /** Two minutes, 2^22 packets, previous keys kept for 10 seconds. */
    public static final RekeyPolicy DEFAULT = new RekeyPolicy(MAX_INTERVAL, MAX_PACKET_LIMIT, Duration.ofSeconds(10));

    /**
     * @throws IllegalArgumentException if interval is not in (0, 2 min], packetLimit not in
     *         [1, 2^22] or the retention is negative
     */
    public RekeyPolicy {
        Objects.requireNonNull(interval, "interval");
        Objects.requireNonNull(previousKeyRetention, "previousKeyRetention");
        if (interval.isNegative() || interval.isZero() || interval.compareTo(MAX_INTERVAL) > 0) {
            throw new IllegalArgumentException("rekey interval must be in (0, 2 min], got " + interval);
        }
        if (packetLimit < 1 || packetLimit > MAX_PACKET_LIMIT) {
            throw new IllegalArgumentException("rekey packet limit must be in [1, 2^22], got " + packetLimit);
        }
        if (previousKeyRetention.isNegative()) {
            throw new IllegalArgumentException("previous key retention must not be negative, got " + previousKeyRetention);
        }
    }
}
