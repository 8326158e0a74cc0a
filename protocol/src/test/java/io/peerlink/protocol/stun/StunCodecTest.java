package io.peerlink.protocol.stun;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.*;

class StunCodecTest {
    /** RFC 5769 section 2.2, sample IPv4 response (192.0.2.1:32853). */
    static final byte[] RFC5769_IPV4 = HexFormat.of().parseHex(
            "0101003c2112a442b7e7a701bc34d686fa87dfae"
            + "8022000b7465737420766563746f7220"
            + "002000080001a147e112a643"
            + "000800142b91f599fd9e90c38c7489f92af9ba53f06be7d7"
            + "80280004c07d4c96");
    /** RFC 5769 section 2.3, sample IPv6 response ([2001:db8:1234:5678:11:2233:4455:6677]:32853). */
    static final byte[] RFC5769_IPV6 = HexFormat.of().parseHex(
            "010100482112a442b7e7a701bc34d686fa87dfae"
            + "8022000b7465737420766563746f7220"
            + "002000140002a1470113a9faa5d3f179bc25f4b5bed2b9d9"
            + "00080014a382954e4be67bf11784c97c8292c275bfe3ed41"
            + "80280004c8fb0b4c");
    static final byte[] RFC5769_TXID = HexFormat.of().parseHex("b7e7a701bc34d686fa87dfae");

    @Test
    void decodesRfc5769Ipv4SampleResponse() throws Exception {
        StunMessage m = new StunMessage();
        m.decode(ByteBuffer.wrap(RFC5769_IPV4));
        assertEquals(Stun.BINDING_SUCCESS, m.type());
        assertTrue(m.hasFingerprint());
        assertTrue(m.hasTransactionId(RFC5769_TXID));
        assertEquals("test vector", m.software());
        assertEquals(new InetSocketAddress(InetAddress.getByName("192.0.2.1"), 32853), m.mappedAddress());
        assertEquals(Optional.of(new InetSocketAddress(InetAddress.getByName("192.0.2.1"), 32853)),
                StunClient.parseResponse(ByteBuffer.wrap(RFC5769_IPV4), RFC5769_TXID));
    }

    @Test
    void decodesRfc5769Ipv6SampleResponse() throws Exception {
        Optional<InetSocketAddress> mapped = StunClient.parseResponse(ByteBuffer.wrap(RFC5769_IPV6), RFC5769_TXID);
        assertEquals(Optional.of(new InetSocketAddress(InetAddress.getByName("2001:db8:1234:5678:11:2233:4455:6677"), 32853)), mapped);
    }

    @Test
    void responseForAnotherTransactionIsIgnored() throws Exception {
        byte[] other = RFC5769_TXID.clone();
        other[11] ^= 1;
        assertEquals(Optional.empty(), StunClient.parseResponse(ByteBuffer.wrap(RFC5769_IPV4), other));
    }

    @Test
    void encodesRequestAndSuccessThatRoundTrip() throws Exception {
        byte[] txid = StunClient.newTransactionId();
        ByteBuffer request = StunClient.request(txid);
        assertEquals(28, request.remaining());
        StunMessage m = new StunMessage();
        m.decode(request);
        assertTrue(m.isBindingRequest());
        assertTrue(m.hasFingerprint());
        assertTrue(m.hasTransactionId(txid));
        assertEquals(0, request.position(), "decode must not move the position");

        for (String host : new String[] {"203.0.113.7", "2001:db8::42"}) {
            ByteBuffer out = ByteBuffer.allocate(Stun.MAX_MESSAGE_LENGTH);
            InetAddress address = InetAddress.getByName(host);
            new StunEncoder().writeBindingSuccess(out, txid, address, 40001, "peerlink".getBytes(StandardCharsets.UTF_8));
            out.flip();
            assertEquals(Optional.of(new InetSocketAddress(address, 40001)), StunClient.parseResponse(out, txid));
            m.decode(out);
            assertEquals("peerlink", m.software());
            assertTrue(m.mappedAddressIsXor());
        }
    }

    @Test
    void unknownComprehensionRequiredAttributesAreListedIn420() throws Exception {
        byte[] txid = StunClient.newTransactionId();
        // Binding request with CHANGE-REQUEST (0x0003, unknown to a plain RFC 8489 server) and an optional 0x8055.
        ByteBuffer req = ByteBuffer.allocate(48);
        req.putShort((short) 1).putShort((short) 16).putInt(Stun.MAGIC_COOKIE).put(txid);
        req.putShort((short) 0x0003).putShort((short) 4).putInt(0);
        req.putShort((short) 0x8055).putShort((short) 1).put((byte) 7).put(new byte[3]);
        req.flip();
        StunMessage m = new StunMessage();
        m.decode(req);
        assertEquals(1, m.unknownRequiredCount());
        assertEquals(0x0003, m.unknownRequired(0));

        ByteBuffer out = ByteBuffer.allocate(Stun.MAX_MESSAGE_LENGTH);
        new StunEncoder().writeBindingError(out, txid, 420, "Unknown Attribute".getBytes(StandardCharsets.UTF_8), m);
        out.flip();
        StunMessage response = new StunMessage();
        response.decode(out);
        assertEquals(Stun.BINDING_ERROR, response.type());
        assertEquals(420, response.errorCode());
        assertEquals("Unknown Attribute", response.errorReason());
        assertEquals(Optional.empty(), StunClient.parseResponse(out, txid));
    }

    @Test
    void rejectsMalformedInputWithPreciseMessages() {
        byte[] good = RFC5769_IPV4;
        assertRejected(Arrays.copyOf(good, 19), "truncated");
        assertRejected(new byte[Stun.MAX_MESSAGE_LENGTH + 4], "oversized");
        byte[] topBits = good.clone();
        topBits[0] = (byte) 0x41;
        assertRejected(topBits, "top two bits");
        byte[] cookie = good.clone();
        cookie[4] = 0;
        assertRejected(cookie, "magic cookie");
        assertRejected(Arrays.copyOf(good, good.length - 4), "length field");
        byte[] oddLength = good.clone();
        oddLength[3] = 0x3d;
        assertRejected(oddLength, "multiple of 4");
        byte[] badFingerprint = good.clone();
        badFingerprint[badFingerprint.length - 1] ^= 1;
        assertRejected(badFingerprint, "FINGERPRINT mismatch");
        byte[] overflow = good.clone();
        overflow[22] = 0x7f; // SOFTWARE length far beyond the message
        assertRejected(overflow, "declares");
        byte[] family = good.clone();
        family[41] = 0x03;
        assertRejected(family, "address family");
    }

    @Test
    void retransmissionScheduleFollowsRfc8489() {
        Duration rto = StunClient.DEFAULT_RTO;
        long[] expected = {0, 500, 1500, 3500, 7500, 15500, 31500};
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], StunClient.sendTimeMillis(i, rto));
        }
        assertEquals(39500, StunClient.giveUpMillis(rto));
        assertThrows(IllegalArgumentException.class, () -> StunClient.sendTimeMillis(7, rto));
    }

    private static void assertRejected(byte[] datagram, String messagePart) {
        StunFormatException e = assertThrows(StunFormatException.class, () -> new StunMessage().decode(ByteBuffer.wrap(datagram)));
        assertTrue(e.getMessage().contains(messagePart), () -> "expected '" + messagePart + "' in: " + e.getMessage());
    }
}
