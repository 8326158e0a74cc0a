package io.peerlink.protocol.rendezvous;

import io.peerlink.DeviceId;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * A relayed datagram on the rendezvous WebSocket (docs/protocol-rendezvous.md, "Relay frames"):
 * one binary WebSocket message,
 * <pre>
 * 0x01 (DATA) | device ID (52 ASCII characters) | datagram (0..MAX_PAYLOAD bytes)
 * </pre>
 * From a device the ID names the peer it is for; from the server, the peer it came from.
 */
public final class RelayFrame {
    /** The one frame type so far. */
    public static final byte DATA = 0x01;
    /** Length of a device ID in the frame. */
    public static final int ID_LENGTH = 52;
    /** Type byte and device ID. */
    public static final int HEADER = 1 + ID_LENGTH;
    /** Largest datagram a frame carries. */
    public static final int MAX_PAYLOAD = 16_384;
    /** Largest frame. */
    public static final int MAX_FRAME = HEADER + MAX_PAYLOAD;

    private RelayFrame() {
    }

    /**
     * @param peer the device the datagram is for (device to server) or from (server to device)
     * @param datagram the datagram; its remaining bytes are copied, its position is not moved
     * @return the frame, ready to send
     * @throws IllegalArgumentException if the datagram is larger than {@link #MAX_PAYLOAD}
     */
    public static ByteBuffer encode(DeviceId peer, ByteBuffer datagram) {
        int n = datagram.remaining();
        if (n > MAX_PAYLOAD) {
            throw new IllegalArgumentException("datagram of " + n + " bytes exceeds " + MAX_PAYLOAD);
        }
        ByteBuffer out = ByteBuffer.allocate(HEADER + n);
        out.put(DATA).put(peer.value().getBytes(StandardCharsets.US_ASCII)).put(datagram.duplicate());
        return out.flip();
    }

    /**
     * Re-addresses a frame in place: the server turns "to B" from A into "from A" for B.
     *
     * @param frame a frame that {@link #peer} accepted (position at its start)
     * @param peer the new device ID
     * @return the frame (same buffer, position unchanged)
     */
    public static ByteBuffer readdress(ByteBuffer frame, DeviceId peer) {
        byte[] id = peer.value().getBytes(StandardCharsets.US_ASCII);
        frame.put(frame.position() + 1, id);
        return frame;
    }

    /**
     * @param frame a binary WebSocket message (position at its start; not moved)
     * @return the device ID it names, or null if it is not a well-formed DATA frame (an ID not in
     *         its canonical lower-case form included)
     */
    public static DeviceId peer(ByteBuffer frame) {
        if (frame.remaining() < HEADER || frame.remaining() > MAX_FRAME || frame.get(frame.position()) != DATA) {
            return null;
        }
        byte[] id = new byte[ID_LENGTH];
        frame.get(frame.position() + 1, id);
        String text = new String(id, StandardCharsets.US_ASCII);
        try {
            DeviceId parsed = DeviceId.parse(text);
            // Canonical form only (lower case, no padding): one device, one spelling on the wire.
            return parsed.value().equals(text) ? parsed : null;
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /**
     * @param frame a frame that {@link #peer} accepted (position at its start; not moved)
     * @return its datagram, a view of the frame
     */
    public static ByteBuffer payload(ByteBuffer frame) {
        return frame.duplicate().position(frame.position() + HEADER).slice();
    }
}
