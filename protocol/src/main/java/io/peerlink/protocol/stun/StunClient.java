package io.peerlink.protocol.stun;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * Device-side STUN Binding helper that owns no socket: the device sends {@link #request(byte[])}
 * from the same socket as its hole-punch traffic (so the mapped address is the one peers will
 * see) and hands every datagram whose first byte passes {@link Stun#looksLikeStun(int)} to
 * {@link #parseResponse(ByteBuffer, byte[])}.
 *
 * <h2>Retransmission (RFC 8489 section 6.2.1)</h2>
 * Over UDP a client retransmits the same request (same transaction ID) with doubling intervals
 * starting at RTO (default 500 ms; at least 500 ms recommended): sends at 0, RTO, 3 RTO, 7 RTO,
 * ... for Rc = 7 transmissions, then waits Rm = 16 RTO after the last one before giving up
 * (0, 500, 1500, 3500, 7500, 15500, 31500 ms; failure at 39500 ms). {@link #sendTimeMillis(int, Duration)}
 * and {@link #giveUpMillis(Duration)} compute that schedule; keep one transaction outstanding
 * per server and accept any of the retransmissions' responses (they share the transaction ID).
 *
 * <p>Thread-safe: each call uses its own decoder.
 */
public final class StunClient {
    /** Default initial retransmission timeout. */
    public static final Duration DEFAULT_RTO = Duration.ofMillis(500);
    /** Transmissions of one request (RFC 8489 Rc). */
    public static final int MAX_TRANSMISSIONS = 7;
    /** Final wait, in RTOs, after the last transmission (RFC 8489 Rm). */
    public static final int FINAL_WAIT_RTOS = 16;

    private static final SecureRandom RANDOM = new SecureRandom();

    private StunClient() {
    }

    /** @return a fresh, cryptographically random 96-bit transaction ID */
    public static byte[] newTransactionId() {
        byte[] id = new byte[Stun.TRANSACTION_ID_LENGTH];
        RANDOM.nextBytes(id);
        return id;
    }

    /**
     * @param transactionId 12 bytes (reuse it for retransmissions)
     * @return a Binding request with FINGERPRINT, ready to send (position 0, limit = length)
     */
    public static ByteBuffer request(byte[] transactionId) {
        Objects.requireNonNull(transactionId, "transactionId");
        ByteBuffer out = ByteBuffer.allocate(28);
        new StunEncoder().writeBindingRequest(out, transactionId);
        return out.flip();
    }

    /**
     * @param datagram a received datagram (position..limit); its position is not moved
     * @param expectedTransactionId the outstanding request's transaction ID
     * @return the reflexive address, or empty if the datagram is not a Binding success response
     *         to that transaction (another transaction, an error response, or a response without
     *         an address)
     * @throws StunFormatException if the datagram is not well-formed STUN
     */
    public static Optional<InetSocketAddress> parseResponse(ByteBuffer datagram, byte[] expectedTransactionId)
            throws StunFormatException {
        Objects.requireNonNull(datagram, "datagram");
        Objects.requireNonNull(expectedTransactionId, "expectedTransactionId");
        StunMessage message = new StunMessage();
        message.decode(datagram);
        if (message.type() != Stun.BINDING_SUCCESS || !message.hasTransactionId(expectedTransactionId)) {
            return Optional.empty();
        }
        return Optional.ofNullable(message.mappedAddress());
    }

    /**
     * @param transmission 0-based transmission number, below {@link #MAX_TRANSMISSIONS}
     * @param rto the initial retransmission timeout
     * @return milliseconds after the first transmission at which this one is sent
     */
    public static long sendTimeMillis(int transmission, Duration rto) {
        if (transmission < 0 || transmission >= MAX_TRANSMISSIONS) {
            throw new IllegalArgumentException("transmission must be 0.." + (MAX_TRANSMISSIONS - 1) + ": " + transmission);
        }
        return ((1L << transmission) - 1) * rto.toMillis();
    }

    /**
     * @param rto the initial retransmission timeout
     * @return milliseconds after the first transmission at which the transaction has failed
     */
    public static long giveUpMillis(Duration rto) {
        return sendTimeMillis(MAX_TRANSMISSIONS - 1, rto) + FINAL_WAIT_RTOS * rto.toMillis();
    }
}
