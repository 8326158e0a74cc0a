package io.peerlink.core.internal.channel;

import io.peerlink.ChannelOptions;
import io.peerlink.core.internal.crypto.NoiseSuite;
import io.peerlink.core.internal.crypto.PacketProtector;
import io.peerlink.core.internal.crypto.RekeyPolicy;
import io.peerlink.core.internal.crypto.SessionKeys;
import io.peerlink.testkit.Impairment;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The sealing seam with a real AEAD ({@link AesGcmTestSealer}): a transfer under loss and
 * corruption arrives byte-exact; corrupted and forged packets are dropped, never delivered.
 */
class SealedChannelTest {
    static final ChannelOptions FAST = ChannelOptions.builder()
            .initialRtt(Duration.ofMillis(20))
            .maxAckDelay(Duration.ofMillis(5))
            .build();

    @Test
    void aLossyCorruptingPathDeliversByteExactOverSealedPackets() throws Exception {
        AesGcmTestSealer[] sealers = AesGcmTestSealer.pair();
        Impairment bad = Impairment.NONE.withLoss(0.05).withCorruption(0.02);
        try (ChannelPair p = new ChannelPair(FAST, bad, bad, 31, true, sealers[0], sealers[1])) {
            List<byte[]> sent = new ArrayList<>();
            List<CompletableFuture<Void>> futures = new ArrayList<>();
            Random r = new Random(3);
            for (int i = 0; i < 40; i++) {
                byte[] m = new byte[1 + r.nextInt(60_000)];
                r.nextBytes(m);
                sent.add(m);
                futures.add(p.a.send(ByteBuffer.wrap(m)).toCompletableFuture());
            }
            CompletableFuture.allOf(futures.toArray(new CompletableFuture<?>[0])).get(60, TimeUnit.SECONDS);
            ChannelDeliveryPropertiesTest.awaitReceived(p, sent.size());
            for (int i = 0; i < sent.size(); i++) {
                assertArrayEquals(sent.get(i), p.receivedByB.get(i), "message " + i);
            }
            long dropped = ChannelPair.onLoop(p.loopB, p.b::corruptDatagramsDropped)
                    + ChannelPair.onLoop(p.loopA, p.a::corruptDatagramsDropped);
            assertTrue(dropped > 0, "corrupted datagrams failed authentication and were dropped");
            assertTrue(p.a.isOpen() && p.b.isOpen());
        }
    }

    @Test
    void aCorruptedOrForgedPacketIsDroppedAndNotDelivered() throws Exception {
        AesGcmTestSealer[] sealers = AesGcmTestSealer.pair();
        try (ChannelPair p = new ChannelPair(FAST, Impairment.NONE, Impairment.NONE, 32, true, sealers[0], sealers[1])) {
            // A packet sealed with a's keys but altered in one ciphertext bit ...
            PacketCodec sealedLikeA = new PacketCodec(AesGcmTestSealer.pair()[0]);
            ByteBuffer forged = ByteBuffer.allocate(1200);
            sealedLikeA.writeHeader(forged, 2, 1_000);
            FrameCodec.encodeData(forged, true, 0, 5, 0, ByteBuffer.wrap(new byte[] {1, 2, 3, 4, 5}), 0, 5);
            sealedLikeA.seal(forged, 0);
            forged.flip();
            // ... and one sealed with the wrong keys (a forger who knows the connection ID).
            PacketCodec real = new PacketCodec(sealers[0]);
            ByteBuffer corrupted = ByteBuffer.allocate(1200);
            // sealers[0] is engine a's, confined to a's loop: use it there, not concurrently with a's own packets.
            ChannelPair.onLoop(p.loopA, () -> {
                real.writeHeader(corrupted, 2, 1_001);
                FrameCodec.encodeData(corrupted, true, 0, 5, 0, ByteBuffer.wrap(new byte[] {1, 2, 3, 4, 5}), 0, 5);
                real.seal(corrupted, 0);
                return null;
            });
            corrupted.flip();
            corrupted.put(20, (byte) (corrupted.get(20) ^ 0x40));
            long before = ChannelPair.onLoop(p.loopB, p.b::corruptDatagramsDropped);
            ChannelPair.onLoop(p.loopB, () -> {
                p.b.onDatagram(forged);
                p.b.onDatagram(corrupted);
                return null;
            });
            assertEquals(before + 2, (long) ChannelPair.onLoop(p.loopB, p.b::corruptDatagramsDropped));
            assertTrue(p.receivedByB.isEmpty(), "nothing of either packet was delivered");
            // The channel is unaffected.
            byte[] m = new byte[3000];
            new Random(4).nextBytes(m);
            p.a.send(ByteBuffer.wrap(m)).toCompletableFuture().get(10, TimeUnit.SECONDS);
            ChannelDeliveryPropertiesTest.awaitReceived(p, 1);
            assertArrayEquals(m, p.receivedByB.get(0));
        }
    }

    // ---- the security layer's PacketProtector behind the seam

    private static PacketProtector protector(byte[] send, byte[] receive, RekeyPolicy policy) {
        return SessionKeys.fromSecrets(NoiseSuite.AESGCM, send, receive).newPacketProtector(policy, System.nanoTime());
    }

    private static byte[][] secrets() {
        byte[][] s = new byte[2][32];
        SecureRandom r = new SecureRandom();
        r.nextBytes(s[0]);
        r.nextBytes(s[1]);
        return s;
    }

    @Test
    void aLossyCorruptingTransferOverProtectorSealedPacketsSurvivesKeyUpdates() throws Exception {
        byte[][] s = secrets();
        // A key update every 256 packets: the transfer crosses several generations each way.
        RekeyPolicy often = new RekeyPolicy(Duration.ofMinutes(2), 256, Duration.ofSeconds(10));
        PacketProtector pa = protector(s[0], s[1], often);
        PacketProtector pb = protector(s[1], s[0], often);
        Impairment bad = Impairment.NONE.withLoss(0.05).withCorruption(0.02);
        try (ChannelPair p = new ChannelPair(FAST, bad, bad, 33, true, new ProtectorSealer(pa), new ProtectorSealer(pb))) {
            List<byte[]> sent = new ArrayList<>();
            List<CompletableFuture<Void>> futures = new ArrayList<>();
            Random r = new Random(5);
            for (int i = 0; i < 60; i++) {
                byte[] m = new byte[1 + r.nextInt(80_000)];
                r.nextBytes(m);
                sent.add(m);
                futures.add(p.a.send(ByteBuffer.wrap(m)).toCompletableFuture());
            }
            CompletableFuture.allOf(futures.toArray(new CompletableFuture<?>[0])).get(60, TimeUnit.SECONDS);
            ChannelDeliveryPropertiesTest.awaitReceived(p, sent.size());
            for (int i = 0; i < sent.size(); i++) {
                assertArrayEquals(sent.get(i), p.receivedByB.get(i), "message " + i);
            }
            long dropped = ChannelPair.onLoop(p.loopB, p.b::corruptDatagramsDropped);
            assertTrue(dropped > 0, "corrupted datagrams failed authentication and were dropped");
            long generations = ChannelPair.onLoop(p.loopA, pa::sendGeneration);
            assertTrue(generations >= 4, "keys were updated " + generations + " times");
            // The receiver sends almost only ACKs; its keys are updated too because every 16th
            // ACK-only packet elicits an immediate acknowledgement (without it, its key runs out).
            long receiverGenerations = ChannelPair.onLoop(p.loopB, pb::sendGeneration);
            assertTrue(receiverGenerations >= 1, "receiver keys updated " + receiverGenerations + " times");
            assertTrue(p.a.isOpen() && p.b.isOpen());
        }
    }

    @Test
    void packetsTamperedWithOrSealedWithOtherKeysAreDroppedByTheProtector() throws Exception {
        byte[][] s = secrets();
        PacketProtector pa = protector(s[0], s[1], RekeyPolicy.DEFAULT);
        PacketProtector pb = protector(s[1], s[0], RekeyPolicy.DEFAULT);
        try (ChannelPair p = new ChannelPair(FAST, Impairment.NONE, Impairment.NONE, 34, true,
                new ProtectorSealer(pa), new ProtectorSealer(pb))) {
            byte[] m = new byte[2000];
            new Random(6).nextBytes(m);
            p.a.send(ByteBuffer.wrap(m)).toCompletableFuture().get(10, TimeUnit.SECONDS);
            ChannelDeliveryPropertiesTest.awaitReceived(p, 1);
            // The right keys (a copy of a's protector) but one flipped ciphertext bit ...
            PacketCodec sameKeys = new PacketCodec(new ProtectorSealer(protector(s[0], s[1], RekeyPolicy.DEFAULT)));
            ByteBuffer tampered = ByteBuffer.allocate(1200);
            sameKeys.writeHeader(tampered, 2, 100_000);
            FrameCodec.encodeData(tampered, true, 0, 5, 0, ByteBuffer.wrap(new byte[] {9, 9, 9, 9, 9}), 0, 5);
            sameKeys.seal(tampered, 0);
            tampered.flip();
            tampered.put(16, (byte) (tampered.get(16) ^ 1));
            // ... and a packet sealed with keys of another session.
            byte[][] other = secrets();
            PacketCodec otherKeys = new PacketCodec(new ProtectorSealer(protector(other[0], other[1], RekeyPolicy.DEFAULT)));
            ByteBuffer forged = ByteBuffer.allocate(1200);
            otherKeys.writeHeader(forged, 2, 100_001);
            FrameCodec.encodeData(forged, true, 0, 5, 0, ByteBuffer.wrap(new byte[] {9, 9, 9, 9, 9}), 0, 5);
            otherKeys.seal(forged, 0);
            forged.flip();
            long before = ChannelPair.onLoop(p.loopB, p.b::corruptDatagramsDropped);
            ChannelPair.onLoop(p.loopB, () -> {
                p.b.onDatagram(tampered);
                p.b.onDatagram(forged);
                return null;
            });
            assertEquals(before + 2, (long) ChannelPair.onLoop(p.loopB, p.b::corruptDatagramsDropped));
            Thread.sleep(50);
            assertEquals(1, p.receivedByB.size(), "neither packet was delivered");
            assertTrue(p.b.isOpen());
            byte[] m2 = new byte[5000];
            new Random(7).nextBytes(m2);
            p.a.send(ByteBuffer.wrap(m2)).toCompletableFuture().get(10, TimeUnit.SECONDS);
            ChannelDeliveryPropertiesTest.awaitReceived(p, 2);
            assertArrayEquals(m2, p.receivedByB.get(1));
        }
    }
}
