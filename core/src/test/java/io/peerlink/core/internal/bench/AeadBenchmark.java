package io.peerlink.core.internal.bench;

import io.peerlink.core.internal.crypto.HandshakeException;
import io.peerlink.core.internal.crypto.NoiseSuite;
import io.peerlink.core.internal.crypto.PacketProtector;
import io.peerlink.core.internal.crypto.RekeyPolicy;
import io.peerlink.core.internal.crypto.SecureHandshake;
import io.peerlink.core.internal.crypto.SessionKeys;
import io.peerlink.protocol.identity.DeviceIdentity;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.spec.AlgorithmParameterSpec;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;

/**
 * Cost of the security layer on this JDK, for choosing the default Noise cipher
 * (docs/benchmarks.md, "AEAD and handshake"):
 * <ul>
 *   <li>{@code sealOpen}: {@link PacketProtector#seal} + {@link PacketProtector#open} of one
 *       1,200-byte datagram (13-byte header as associated data, 1,171 bytes of payload, 16-byte
 *       tag), heap buffer in place, per suite. Includes the replay window and key-phase logic.</li>
 *   <li>{@code rawJcaSealOpen}: the same AEAD work done directly on a JDK {@code Cipher} (init,
 *       associated data, in-place doFinal, both ways), without replay window or key schedule: the
 *       floor {@code sealOpen} is measured against.</li>
 *   <li>{@code crc32cBaseline}: what the unsealed codec does instead (CRC32C over the same 1,184
 *       bytes, twice: once to seal, once to check), in the same run.</li>
 *   <li>{@code handshake}: a complete three-message identity-bound Noise XX handshake, both sides
 *       in one thread (two X25519 key generations, six X25519 agreements, two Ed25519 signatures
 *       and two verifications, per suite).</li>
 * </ul>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class AeadBenchmark {
    /** Datagram size a sealed packet fills. */
    public static final int DATAGRAM_SIZE = 1200;
    private static final int HEADER_LENGTH = 13;
    private static final int PAYLOAD_LENGTH = DATAGRAM_SIZE - HEADER_LENGTH - PacketProtector.TAG_LENGTH;

    @Param({"AESGCM", "CHACHAPOLY"})
    public NoiseSuite suite;

    private PacketProtector sender;
    private PacketProtector receiver;
    private ByteBuffer packet;
    private final CRC32C crc = new CRC32C();
    private long packetNumber;
    private DeviceIdentity alice;
    private DeviceIdentity bob;
    private final byte[] prologue = new byte[24];
    private Cipher rawSeal;
    private Cipher rawOpen;
    private SecretKeySpec rawKey;
    private final byte[] nonce = new byte[12];
    private long rawNonce;

    /** Two protectors facing each other, a packet buffer, two identities. */
    @Setup
    public void setUp() {
        byte[] aToB = new byte[32];
        byte[] bToA = new byte[32];
        for (int i = 0; i < 32; i++) {
            aToB[i] = (byte) i;
            bToA[i] = (byte) (i + 64);
        }
        sender = SessionKeys.fromSecrets(suite, aToB, bToA).newPacketProtector(RekeyPolicy.DEFAULT, System.nanoTime());
        receiver = SessionKeys.fromSecrets(suite, bToA, aToB).newPacketProtector(RekeyPolicy.DEFAULT, System.nanoTime());
        packet = ByteBuffer.allocate(DATAGRAM_SIZE);
        alice = DeviceIdentity.ephemeral();
        bob = DeviceIdentity.ephemeral();
        try {
            String transformation = suite == NoiseSuite.AESGCM ? "AES/GCM/NoPadding" : "ChaCha20-Poly1305";
            rawSeal = Cipher.getInstance(transformation);
            rawOpen = Cipher.getInstance(transformation);
            rawKey = new SecretKeySpec(aToB, suite == NoiseSuite.AESGCM ? "AES" : "ChaCha20");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** @return the number of plaintext bytes recovered (consumed by JMH) */
    @Benchmark
    public int sealOpen() {
        long pn = packetNumber++;
        long now = System.nanoTime();
        ByteBuffer p = packet;
        p.clear();
        int phase = sender.sendKeyPhase(now);
        p.put((byte) (0x40 | phase)).putLong(0x1122334455667788L).putInt((int) pn);
        // The payload bytes are whatever the previous iteration left: content does not change AEAD cost.
        p.position(HEADER_LENGTH + PAYLOAD_LENGTH);
        sender.seal(p, 0, HEADER_LENGTH, pn);
        p.flip();
        if (receiver.open(p, 0, HEADER_LENGTH, pn, p.get(0) & 1, now) != PacketProtector.OpenResult.OPENED) {
            throw new IllegalStateException("packet " + pn + " did not open");
        }
        sender.onAcknowledged(pn);
        return p.remaining();
    }

    /**
     * @return the plaintext length recovered (consumed by JMH)
     * @throws GeneralSecurityException never (the keys are fixed and valid)
     */
    @Benchmark
    public int rawJcaSealOpen() throws GeneralSecurityException {
        long n = ++rawNonce;
        for (int i = 0; i < 8; i++) {
            nonce[4 + i] = (byte) (n >>> (56 - 8 * i));
        }
        AlgorithmParameterSpec params = suite == NoiseSuite.AESGCM ? new GCMParameterSpec(128, nonce) : new IvParameterSpec(nonce);
        byte[] array = packet.array();
        rawSeal.init(Cipher.ENCRYPT_MODE, rawKey, params);
        rawSeal.updateAAD(array, 0, HEADER_LENGTH);
        rawSeal.doFinal(array, HEADER_LENGTH, PAYLOAD_LENGTH, array, HEADER_LENGTH);
        rawOpen.init(Cipher.DECRYPT_MODE, rawKey, params);
        rawOpen.updateAAD(array, 0, HEADER_LENGTH);
        return rawOpen.doFinal(array, HEADER_LENGTH, PAYLOAD_LENGTH + PacketProtector.TAG_LENGTH, array, HEADER_LENGTH);
    }

    /** @return the two checksums combined (consumed by JMH) */
    @Benchmark
    public long crc32cBaseline() {
        ByteBuffer p = packet;
        p.clear().limit(DATAGRAM_SIZE - 16);
        crc.reset();
        crc.update(p);
        long sealed = crc.getValue();
        p.clear().limit(DATAGRAM_SIZE - 16);
        crc.reset();
        crc.update(p);
        return sealed ^ crc.getValue();
    }

    /**
     * @return the length of the initiator's session export (consumed by JMH)
     * @throws HandshakeException never (both sides are genuine)
     */
    @Benchmark
    public int handshake() throws HandshakeException {
        SecureHandshake initiator = SecureHandshake.initiator(alice, prologue, bob.id(), suite);
        SecureHandshake responder = SecureHandshake.responder(bob, prologue, alice.id(), suite);
        responder.readMessage(initiator.writeMessage());
        initiator.readMessage(responder.writeMessage());
        responder.readMessage(initiator.writeMessage());
        SessionKeys keys = initiator.sessionKeys();
        int length = keys.handshakeHash().length;
        keys.destroy();
        responder.sessionKeys().destroy();
        return length;
    }
}
