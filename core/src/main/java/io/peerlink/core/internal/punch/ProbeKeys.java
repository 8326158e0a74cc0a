package io.peerlink.core.internal.punch;

import io.peerlink.core.internal.crypto.Hkdf;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import javax.crypto.Mac;

/**
 * The keys that authenticate one introduction's connectivity checks (docs/protocol-punching.md,
 * "Authentication"). Both sides derive them from the rendezvous session secret with HKDF-SHA256
 * (RFC 5869): {@code PRK = HMAC(salt, secret)}, one 32-byte key per direction
 * ({@code HMAC(PRK, label || 0x01)}). Neither the secret nor anything computed from it but a MAC
 * ever goes on the wire, so a host that receives a probe (say, at a private address that collides
 * with the peer's) learns nothing that lets it answer one. Direction keys make a probe reflected
 * back to its sender worthless. Each instance holds initialised {@link Mac}s and is confined to
 * the event loop.
 */
public final class ProbeKeys {

    private static final byte[] SALT = "peerlink probe v1".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] INITIATOR_LABEL = "initiator to responder".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] RESPONDER_LABEL = "responder to initiator".getBytes(StandardCharsets.US_ASCII);

    private final Mac outbound;
    private final Mac inbound;

    private ProbeKeys(Mac outbound, Mac inbound) {
        this.outbound = outbound;
        this.inbound = inbound;
    }

    /**
     * @param sessionSecret the one-time secret of the introduction, the same on both sides
     * @param initiator whether this side initiated the connect
     * @return this side's keys
     * @throws io.peerlink.core.internal.crypto.CryptoUnavailableException if the JDK lacks HmacSHA256 (every Java SE has it)
     */
    public static ProbeKeys derive(String sessionSecret, boolean initiator) {
        byte[] prk = Hkdf.hmac(SALT, sessionSecret.getBytes(StandardCharsets.UTF_8));
        byte[] i2r = Hkdf.expand(prk, INITIATOR_LABEL, Hkdf.HASH_LENGTH);
        byte[] r2i = Hkdf.expand(prk, RESPONDER_LABEL, Hkdf.HASH_LENGTH);
        Arrays.fill(prk, (byte) 0);
        ProbeKeys keys = initiator ? new ProbeKeys(Hkdf.keyedMac(i2r), Hkdf.keyedMac(r2i)) : new ProbeKeys(Hkdf.keyedMac(r2i), Hkdf.keyedMac(i2r));
        Arrays.fill(i2r, (byte) 0);
        Arrays.fill(r2i, (byte) 0);
        return keys;
    }

    /** @return the MAC this side signs its probes and ACKs with */
    public Mac outbound() {
        return outbound;
    }

    /** @return the MAC the peer's probes and ACKs must carry */
    public Mac inbound() {
        return inbound;
    }


}
