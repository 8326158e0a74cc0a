package io.peerlink.core.internal.crypto;

import io.peerlink.core.internal.crypto.HandshakeException.Reason;
import io.peerlink.protocol.identity.DeviceIdentity;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The identity payload codec: exact round trips, and only MALFORMED_PAYLOAD for anything else. */
class HandshakePayloadPropertiesTest {
    private static final DeviceIdentity IDENTITY = DeviceIdentity.ephemeral();
    private static final byte[] STATIC_KEY = X25519.generate().publicKey();

    @Property(tries = 200)
    void roundTripsAndVerifies(@ForAll @Size(max = HandshakePayload.MAX_APPLICATION_DATA) byte[] data) throws Exception {
        HandshakePayload payload = HandshakePayload.sign(IDENTITY, STATIC_KEY, data);
        byte[] encoded = payload.encode();
        assertEquals(HandshakePayload.FIXED_LENGTH + data.length, encoded.length);
        HandshakePayload decoded = HandshakePayload.decode(encoded);
        assertArrayEquals(data, decoded.applicationData());
        assertArrayEquals(IDENTITY.rawPublicKey(), decoded.identityKey());
        assertEquals(IDENTITY.id(), decoded.verify(STATIC_KEY));
        assertEquals(Reason.BAD_IDENTITY_SIGNATURE,
                assertThrows(HandshakeException.class, () -> decoded.verify(X25519.generate().publicKey())).reason());
    }

    @Property(tries = 300)
    void everyTruncationOrExtensionIsMalformed(@ForAll @Size(max = 64) byte[] data,
                                               @ForAll @IntRange(min = 1, max = 700) int change) {
        byte[] encoded = HandshakePayload.sign(IDENTITY, STATIC_KEY, data).encode();
        byte[] truncated = Arrays.copyOf(encoded, Math.max(0, encoded.length - change));
        assertEquals(Reason.MALFORMED_PAYLOAD,
                assertThrows(HandshakeException.class, () -> HandshakePayload.decode(truncated)).reason());
        byte[] extended = Arrays.copyOf(encoded, encoded.length + change);
        assertEquals(Reason.MALFORMED_PAYLOAD,
                assertThrows(HandshakeException.class, () -> HandshakePayload.decode(extended)).reason());
    }

    @Property(tries = 2000)
    void arbitraryBytesDecodeOrFailWithMalformedPayloadOnly(@ForAll @Size(max = 1000) byte[] bytes) {
        try {
            HandshakePayload decoded = HandshakePayload.decode(bytes);
            assertArrayEquals(bytes, decoded.encode(), "a payload that decodes re-encodes to the same bytes");
        } catch (HandshakeException e) {
            assertEquals(Reason.MALFORMED_PAYLOAD, e.reason());
        }
    }

    @Test
    void refusesUnknownVersionAndOversizedLength() {
        byte[] encoded = HandshakePayload.sign(IDENTITY, STATIC_KEY, new byte[0]).encode();
        byte[] version2 = encoded.clone();
        version2[0] = 2;
        assertThrows(HandshakeException.class, () -> HandshakePayload.decode(version2));
        byte[] oversized = Arrays.copyOf(encoded, HandshakePayload.FIXED_LENGTH + 513);
        oversized[HandshakePayload.FIXED_LENGTH - 2] = 0x02;
        oversized[HandshakePayload.FIXED_LENGTH - 1] = 0x01;
        HandshakeException e = assertThrows(HandshakeException.class, () -> HandshakePayload.decode(oversized));
        assertEquals(Reason.MALFORMED_PAYLOAD, e.reason());
        assertThrows(IllegalArgumentException.class,
                () -> HandshakePayload.sign(IDENTITY, STATIC_KEY, new byte[HandshakePayload.MAX_APPLICATION_DATA + 1]));
    }
}
