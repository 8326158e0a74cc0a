package io.peerlink.core.internal.channel;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * The unsealed packet protection: a 4-byte CRC32C over header and frames. It protects against
 * corruption on paths without a checksum (in-process tests, the impaired-path test kit), not
 * against an attacker, who can recompute it. For tests and benchmarks, and for channels the
 * security layer has not sealed yet.
 */
public final class Crc32cSealer implements PacketSealer {
    /** Bytes of the CRC32C tag. */
    public static final int TAG_LENGTH = 4;

    private final CRC32C crc = new CRC32C();

    @Override
    public int tagLength() {
        return TAG_LENGTH;
    }

    @Override
    public void seal(ByteBuffer packet, int start, int headerLength, long packetNumber) {
        int end = packet.position();
        int limit = packet.limit();
        crc.reset();
        // Moves the packet's own position/limit rather than taking a duplicate: no allocation per packet.
        packet.position(start).limit(end);
        crc.update(packet);
        packet.limit(limit).position(end);
        packet.putInt((int) crc.getValue());
    }

    @Override
    public boolean open(ByteBuffer datagram, int start, int headerLength, long packetNumber, int keyPhase, long nowNanos) {
        int position = datagram.position();
        int end = datagram.limit();
        int tagAt = end - TAG_LENGTH;
        crc.reset();
        datagram.position(start).limit(tagAt);
        crc.update(datagram);
        datagram.limit(end).position(position);
        return (int) crc.getValue() == datagram.getInt(tagAt);
    }
}
