package io.peerlink.core.internal.session;

import io.peerlink.core.internal.channel.PacketSealer;
import io.peerlink.core.internal.crypto.PacketProtector;
import io.peerlink.core.internal.loop.EventLoop;

import java.nio.ByteBuffer;

/**
 * Seals a session's channel packets with the keys of its secure handshake: the channel's
 * {@link PacketSealer} seam filled by the security layer's {@link PacketProtector} (AEAD with the
 * packet header as associated data, replay window, key update). The key phase travels in the low
 * bit of the packet's type byte (0x40 / 0x41), inside the associated data. Loop thread only.
 */
final class ProtectedSealer implements PacketSealer {
    private final PacketProtector protector;
    private final EventLoop loop;

    ProtectedSealer(PacketProtector protector, EventLoop loop) {
        this.protector = protector;
        this.loop = loop;
    }

    @Override
    public int tagLength() {
        return PacketProtector.TAG_LENGTH;
    }

    @Override
    public void seal(ByteBuffer packet, int start, int headerLength, long packetNumber) {
        int phase = protector.sendKeyPhase(loop.nanoTime());
        packet.put(start, (byte) ((packet.get(start) & ~1) | phase));
        protector.seal(packet, start, start + headerLength, packetNumber);
    }

    @Override
    public boolean open(ByteBuffer datagram, int start, int headerLength, long packetNumber) {
        if (protector.isDestroyed()) {
            return false;
        }
        int position = datagram.position();
        int limit = datagram.limit();
        int phase = datagram.get(start) & 1;
        PacketProtector.OpenResult r = protector.open(datagram, start, start + headerLength, packetNumber, phase, loop.nanoTime());
        datagram.limit(limit).position(position);
        return r == PacketProtector.OpenResult.OPENED;
    }

    @Override
    public void onAcknowledged(long packetNumber) {
        protector.onAcknowledged(packetNumber);
    }

    /** Erases the keys; every later open fails. */
    void destroy() {
        protector.destroy();
    }
}
