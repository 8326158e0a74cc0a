package io.peerlink.protocol.rendezvous;

import io.peerlink.DeviceId;

import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/** What a device signs in its {@code hello}, and the constants of the handshake. */
public final class Handshake {
    /**
     * Domain-separation prefix: a signature made for the rendezvous can be used for nothing else.
     * v2 (protocol version 2) adds the server name to the signed bytes.
     */
    public static final String CONTEXT = "peerlink-rendezvous-v2";
    /** Bytes of a challenge nonce. */
    public static final int NONCE_LENGTH = 32;
    /** The protocol version this code speaks (the {@code v} of a hello). */
    public static final int VERSION = 2;
    /** Domain-separation prefix of a resumption proof (protocol 2.1, {@link #resumeProof}). */
    public static final String RESUME_CONTEXT = "peerlink-resume-v2";
    /** Bytes of a resumption secret. */
    public static final int RESUMPTION_SECRET_LENGTH = 32;
    /** Bytes of a resumption proof (HMAC-SHA256). */
    public static final int RESUME_PROOF_LENGTH = 32;
    /** The WebSocket path of the control connection. */
    public static final String PATH = "/peerlink/v1";

    /** One HMAC instance per thread, re-keyed per proof (cheaper than looking the algorithm up each time). */
    private static final ThreadLocal<javax.crypto.Mac> MACS = ThreadLocal.withInitial(() -> {
        try {
            return javax.crypto.Mac.getInstance("HmacSHA256");
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available", e);
        }
    });

    private Handshake() {
    }

    /**
     * The name a device signs for the server it dialed: the URI's host, lower-case, without
     * brackets for IPv6 and without the port (port forwarding and proxies change ports, not who
     * the server is).
     *
     * @param controlUri the control URI the device connects to
     * @return the server name, e.g. {@code rendezvous.example.org} or {@code 192.0.2.1}
     * @throws IllegalArgumentException if the URI has no host
     */
    public static String serverName(URI controlUri) {
        String host = controlUri.getHost();
        if (host == null || host.isEmpty()) {
            throw new IllegalArgumentException("control URI has no host: " + controlUri);
        }
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        return host.toLowerCase(Locale.ROOT);
    }

    /**
     * @param nonce the server's 32-byte challenge nonce for this connection
     * @param deviceId the device's ID
     * @param serverName the server's name as the device dialed it ({@link #serverName(URI)})
     * @return {@code ASCII(CONTEXT) || nonce || ASCII(deviceId) || 0x00 || UTF-8(serverName)}
     */
    public static byte[] signedPayload(byte[] nonce, DeviceId deviceId, String serverName) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(128);
        out.writeBytes(CONTEXT.getBytes(StandardCharsets.US_ASCII));
        out.writeBytes(nonce);
        out.writeBytes(deviceId.value().getBytes(StandardCharsets.US_ASCII));
        out.write(0);
        out.writeBytes(serverName.getBytes(StandardCharsets.UTF_8));
        return out.toByteArray();
    }

    /**
     * The proof of a {@code resume}: the device holds the resumption secret that came with its ticket.
     *
     * @param resumptionSecret the 32-byte secret from the {@code welcome} that carried the ticket
     * @param nonce this connection's 32-byte challenge nonce
     * @param deviceId the device's ID
     * @param serverName the server's name as the device dialed it ({@link #serverName(URI)})
     * @return {@code HMAC-SHA256(resumptionSecret, ASCII(RESUME_CONTEXT) || nonce || ASCII(deviceId) || 0x00 || UTF-8(serverName))}
     */
    public static byte[] resumeProof(byte[] resumptionSecret, byte[] nonce, DeviceId deviceId, String serverName) {
        try {
            javax.crypto.Mac mac = MACS.get();
            mac.init(new javax.crypto.spec.SecretKeySpec(resumptionSecret, "HmacSHA256"));
            mac.update(RESUME_CONTEXT.getBytes(StandardCharsets.US_ASCII));
            mac.update(nonce);
            mac.update(deviceId.value().getBytes(StandardCharsets.US_ASCII));
            mac.update((byte) 0);
            mac.update(serverName.getBytes(StandardCharsets.UTF_8));
            return mac.doFinal();
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available", e);
        }
    }
}
