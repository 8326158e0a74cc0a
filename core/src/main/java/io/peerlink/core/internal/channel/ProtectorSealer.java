package io.peerlink.core.internal.channel;

import io.peerlink.core.internal.crypto.PacketProtector;

import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * The security layer's {@link PacketProtector} as the channel's {@link PacketSealer}: AEAD with the
 * packet header as associated data, the packet number as nonce, key update signalled by the key
 * phase in the header's type byte, and the protector's replay window. Hand it to
 * {@link ChannelEngine}'s seven-argument constructor. The protector's owner destroys it when the
 * channel closes; a closed channel that still hears packets then drops them (open fails).
 */
public final class ProtectorSealer implements PacketSealer {
    private final PacketProtector protector;

    /** @param protector the session's protector, used from the channel's loop thread only */
    public ProtectorSealer(PacketProtector protector) {
        this.protector = Objects.requireNonNull(protector, "protector");
    }

    @Override
    public int tagLength() {
        return PacketProtector.TAG_LENGTH;
    }

    @Override
    public void seal(ByteBuffer packet, int start, int headerLength, long packetNumber) {
        protector.seal(packet, start, start + headerLength, packetNumber);
    }

    @Override
    public boolean open(ByteBuffer datagram, int start, int headerLength, long packetNumber, int keyPhase, long nowNanos) {
        try {
            return protector.open(datagram, start, start + headerLength, packetNumber, keyPhase, nowNanos)
                    == PacketProtector.OpenResult.OPENED;
        } catch (IllegalArgumentException | IllegalStateException e) {
            // A packet number beyond 2^62 - 1, or keys already erased: nothing to open with.
            return false;
        }
    }

    @Override
    public int keyPhase(long nowNanos) {
        return protector.sendKeyPhase(nowNanos);
    }

    @Override
    public void onAcknowledged(long packetNumber) {
        protector.onAcknowledged(packetNumber);
    }
}
