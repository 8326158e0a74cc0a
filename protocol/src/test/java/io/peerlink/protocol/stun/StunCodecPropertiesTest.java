package io.peerlink.protocol.stun;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.*;

class StunCodecPropertiesTest {

    @Property(tries = 3000)
    void randomBytesAreEitherValidStunOrAStunFormatException(@ForAll @Size(max = 1300) byte[] datagram) {
        decodeOrReject(datagram);
    }

    @Property(tries = 3000)
    void randomBytesBehindAValidHeaderNeverEscapeAsOtherExceptions(@ForAll @Size(max = 200) byte[] attributes,
                                                                  @ForAll @Size(min = 12, max = 12) byte[] txid) {
        ByteBuffer b = ByteBuffer.allocate(20 + attributes.length);
        b.putShort((short) 0x0101).putShort((short) attributes.length).putInt(Stun.MAGIC_COOKIE).put(txid).put(attributes);
        decodeOrReject(b.array());
    }

    @Property(tries = 2000)
    void mutatedValidResponsesAreRejectedOrStillConsistent(@ForAll("mutations") int[] mutation) {
        byte[] valid = mutation[2] == 0 ? StunCodecTest.RFC5769_IPV4.clone() : StunCodecTest.RFC5769_IPV6.clone();
        int at = mutation[0] % valid.length;
        valid[at] ^= (byte) (mutation[1] | 1);
        byte[] datagram = mutation[3] > 0 ? Arrays.copyOf(valid, Math.max(0, valid.length - mutation[3])) : valid;
        StunMessage m = new StunMessage();
        try {
            m.decode(ByteBuffer.wrap(datagram));
            // A mutation can only survive by disguising the FINGERPRINT attribute itself (turning it into an
            // unknown optional attribute); a message that still claims a valid FINGERPRINT must have been caught.
            assertFalse(m.hasFingerprint(), () -> "a mutated message passed its FINGERPRINT: offset " + at + " length " + datagram.length);
        } catch (StunFormatException expected) {
            assertNotNull(expected.getMessage());
        }
    }

    @Provide
    Arbitrary<int[]> mutations() {
        return Arbitraries.integers().between(0, 10_000).array(int[].class).ofSize(4)
                .map(a -> new int[] {a[0], a[1] % 256, a[2] % 2, a[3] % 5 == 0 ? a[3] % 23 : 0});
    }

    @Property(tries = 1000)
    void successResponsesRoundTripForAnyAddressPortAndTransaction(@ForAll @Size(min = 12, max = 12) byte[] txid,
                                                                 @ForAll @IntRange(min = 0, max = 65535) int port,
                                                                 @ForAll boolean ipv6,
                                                                 @ForAll @Size(min = 16, max = 16) byte[] addressBytes) throws Exception {
        InetAddress address = InetAddress.getByAddress(ipv6 ? addressBytes : Arrays.copyOf(addressBytes, 4));
        ByteBuffer out = ByteBuffer.allocate(Stun.MAX_MESSAGE_LENGTH);
        new StunEncoder().writeBindingSuccess(out, txid, address, port, null);
        out.flip();
        assertEquals(Optional.of(new InetSocketAddress(address, port)), StunClient.parseResponse(out, txid));
    }

    private static void decodeOrReject(byte[] datagram) {
        StunMessage m = new StunMessage();
        try {
            m.decode(ByteBuffer.wrap(datagram));
            assertEquals(datagram.length, 20 + m.length());
        } catch (StunFormatException e) {
            assertFalse(e.getMessage().isBlank());
        }
    }
}
