package io.peerlink.relay.turn;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.peerlink.protocol.stun.ChannelData;
import io.peerlink.protocol.stun.Stun;
import io.peerlink.protocol.stun.StunFormatException;
import io.peerlink.protocol.stun.Turn;
import io.peerlink.protocol.stun.TurnMessage;

import java.nio.ByteBuffer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Jazzer fuzz targets for the TURN decoders a relay and its clients expose to the network: STUN
 * messages with TURN attributes and ChannelData frames (docs/fuzzing.md). In a normal build they
 * replay their seed corpus; {@code JAZZER_FUZZ=1} fuzzes. Only {@link StunFormatException} may
 * come out, and whatever is accepted must be readable.
 */
class TurnCodecFuzzTest {
    private static final byte[] KEY = new byte[16];

    @FuzzTest(maxDuration = "10m")
    void turnMessage(byte[] input) {
        TurnMessage m = new TurnMessage();
        try {
            m.decode(ByteBuffer.wrap(input));
        } catch (StunFormatException refused) {
            return;
        }
        assertEquals(input.length, m.size());
        m.xorAddress(Turn.ATTR_XOR_PEER_ADDRESS);
        m.xorAddress(Turn.ATTR_XOR_RELAYED_ADDRESS);
        m.xorAddress(Stun.ATTR_XOR_MAPPED_ADDRESS);
        m.errorCode();
        m.errorReason();
        m.u32(Turn.ATTR_LIFETIME);
        m.channelNumber();
        m.requestedTransport();
        m.string(Turn.ATTR_NONCE);
        m.slice(Turn.ATTR_DATA);
        m.firstUnknownRequired();
        m.verifyIntegrity(KEY);
    }

    @FuzzTest(maxDuration = "10m")
    void channelData(byte[] input) {
        ByteBuffer frame = ByteBuffer.wrap(input);
        try {
            int channel = ChannelData.channel(frame);
            assertTrue(channel >= Turn.MIN_CHANNEL && channel <= Turn.MAX_CHANNEL_ACCEPTED);
            assertTrue(ChannelData.data(frame).remaining() <= input.length - 4);
        } catch (StunFormatException refused) {
            return;
        }
        if (input.length >= 4) {
            try {
                assertTrue(ChannelData.streamFrameLength(frame) >= 4);
            } catch (StunFormatException refused) {
                // Only for first bytes that are neither STUN nor ChannelData, which channel() already refused.
            }
        }
    }
}
