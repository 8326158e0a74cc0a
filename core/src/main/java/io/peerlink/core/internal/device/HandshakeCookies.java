package io.peerlink.core.internal.device;

import io.peerlink.core.internal.crypto.Hkdf;
import io.peerlink.core.internal.link.SetupPacket;

import javax.crypto.Mac;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;

/**
 * Stateless handshake cookies (docs/protocol-punching.md, "Handshake cookies"), the idea of DTLS's
 * HelloVerifyRequest, WireGuard's cookie reply and QUIC's Retry: a cookie is
 * {@code t(4) | HMAC-SHA256(secret, t || clientCid || path)[0..20]}, where {@code t} is this
 * device's clock in seconds, {@code clientCid} the initiator's connection ID and {@code path} the
 * local and remote endpoints the HS_INIT travelled. Only a sender that receives datagrams at its
 * source address can echo one, and checking it needs nothing but the secret. The secret is 32
 * random bytes per device, never sent. Confined to the event loop (one {@link Mac}).
 */
final class HandshakeCookies {
    /** How long a cookie is accepted after it was issued. */
    static final long LIFETIME_SECONDS = 10;
    private static final int MAC_BYTES = SetupPacket.COOKIE_LENGTH - 4;

    private final Mac mac;
    private final long originNanos;

    HandshakeCookies(SecureRandom random, long originNanos) {
        byte[] secret = new byte[32];
        random.nextBytes(secret);
        try {
            mac = Hkdf.keyedMac(secret);
        } finally {
            Arrays.fill(secret, (byte) 0);
        }
        this.originNanos = originNanos;
    }

    private int seconds(long nowNanos) {
        return (int) ((nowNanos - originNanos) / 1_000_000_000L);
    }

    /**
     * @param path the local and remote endpoints, as text
     * @param clientCid the initiator's connection ID
     * @param nowNanos the loop clock
     * @return a cookie of {@value SetupPacket#COOKIE_LENGTH} bytes
     */
    byte[] issue(String path, long clientCid, long nowNanos) {
        int t = seconds(nowNanos);
        byte[] cookie = new byte[SetupPacket.COOKIE_LENGTH];
        ByteBuffer.wrap(cookie).putInt(t);
        System.arraycopy(tag(t, path, clientCid), 0, cookie, 4, MAC_BYTES);
        return cookie;
    }

    /**
     * @param cookie what the initiator echoed
     * @param path the local and remote endpoints of the echo, as text
     * @param clientCid the initiator's connection ID in the echo
     * @param nowNanos the loop clock
     * @return true if this device issued the cookie for this path and connection ID within the lifetime
     */
    boolean verify(byte[] cookie, String path, long clientCid, long nowNanos) {
        if (cookie == null || cookie.length != SetupPacket.COOKIE_LENGTH) {
            return false;
        }
        int t = ByteBuffer.wrap(cookie).getInt();
        long age = (long) seconds(nowNanos) - t;
        if (age < 0 || age > LIFETIME_SECONDS) {
            return false;
        }
        byte[] expected = Arrays.copyOf(tag(t, path, clientCid), MAC_BYTES);
        return MessageDigest.isEqual(expected, Arrays.copyOfRange(cookie, 4, SetupPacket.COOKIE_LENGTH));
    }

    private byte[] tag(int t, String path, long clientCid) {
        mac.update(ByteBuffer.allocate(12).putInt(t).putLong(clientCid).array());
        return mac.doFinal(path.getBytes(StandardCharsets.UTF_8));
    }
}
