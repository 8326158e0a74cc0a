package io.peerlink.core.internal.channel;

import javax.crypto.Cipher;
import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;

/**
 * A real AEAD behind {@link PacketSealer}, for tests of the sealing seam: AES-128-GCM from the
 * JDK, one key per direction generated at test time, the packet number as nonce (XORed into a
 * random IV, as TLS 1.3 and QUIC do). Not the security layer's protector (no handshake, no
 * rekeying, no replay window): it shows that an AEAD plugs into the channel unchanged.
 */
final class AesGcmTestSealer implements PacketSealer {
    private final SecretKey sendKey;
    private final byte[] sendIv;
    private final SecretKey receiveKey;
    private final byte[] receiveIv;
    private final Cipher cipher;

    private AesGcmTestSealer(SecretKey sendKey, byte[] sendIv, SecretKey receiveKey, byte[] receiveIv) {
        this.sendKey = sendKey;
        this.sendIv = sendIv;
        this.receiveKey = receiveKey;
        this.receiveIv = receiveIv;
        try {
            cipher = Cipher.getInstance("AES/GCM/NoPadding");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** @return two sealers that talk to each other */
    static AesGcmTestSealer[] pair() throws GeneralSecurityException {
        KeyGenerator g = KeyGenerator.getInstance("AES");
        g.init(128);
        SecretKey ab = g.generateKey();
        SecretKey ba = g.generateKey();
        SecureRandom r = new SecureRandom();
        byte[] ivAb = new byte[12];
        byte[] ivBa = new byte[12];
        r.nextBytes(ivAb);
        r.nextBytes(ivBa);
        return new AesGcmTestSealer[] {new AesGcmTestSealer(ab, ivAb, ba, ivBa), new AesGcmTestSealer(ba, ivBa, ab, ivAb)};
    }

    private static GCMParameterSpec nonce(byte[] iv, long packetNumber) {
        byte[] n = iv.clone();
        for (int i = 0; i < 8; i++) {
            n[11 - i] ^= (byte) (packetNumber >>> (8 * i));
        }
        return new GCMParameterSpec(128, n);
    }

    @Override
    public int tagLength() {
        return AEAD_TAG_LENGTH;
    }

    @Override
    public void seal(ByteBuffer packet, int start, int headerLength, long packetNumber) {
        byte[] a = packet.array();
        int base = packet.arrayOffset();
        int from = start + headerLength;
        int end = packet.position();
        try {
            cipher.init(Cipher.ENCRYPT_MODE, sendKey, nonce(sendIv, packetNumber));
            cipher.updateAAD(a, base + start, headerLength);
            int n = cipher.doFinal(a, base + from, end - from, a, base + from);
            packet.position(from + n);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public boolean open(ByteBuffer datagram, int start, int headerLength, long packetNumber, int keyPhase, long nowNanos) {
        byte[] a = datagram.array();
        int base = datagram.arrayOffset();
        int from = start + headerLength;
        int end = datagram.limit();
        try {
            cipher.init(Cipher.DECRYPT_MODE, receiveKey, nonce(receiveIv, packetNumber));
            cipher.updateAAD(a, base + start, headerLength);
            cipher.doFinal(a, base + from, end - from, a, base + from);
            return true;
        } catch (javax.crypto.AEADBadTagException e) {
            return false;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
