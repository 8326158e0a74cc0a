package io.peerlink.core.internal.crypto;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Replays the published cacophony vectors for both XX suites through our HandshakeState and
 * CipherState, byte for byte: every handshake message, the final handshake hash, and the transport
 * messages that follow Split() (which exercise each suite's nonce encoding).
 */
class NoiseVectorsTest {
    private static final HexFormat HEX = HexFormat.of();

    record Message(byte[] payload, byte[] ciphertext) {
    }

    record Vector(Map<String, byte[]> fields, List<Message> messages) {
        byte[] get(String key) {
            byte[] value = fields.get(key);
            assertNotNull(value, key);
            return value;
        }
    }

    static Map<String, Vector> load() throws IOException {
        Map<String, Vector> vectors = new LinkedHashMap<>();
        try (InputStream in = NoiseVectorsTest.class.getResourceAsStream("noise-xx-vectors.txt")) {
            assertNotNull(in, "noise-xx-vectors.txt on the test class path");
            String name = null;
            Map<String, byte[]> fields = null;
            List<Message> messages = null;
            byte[] payload = null;
            for (String line : new String(in.readAllBytes(), StandardCharsets.US_ASCII).split("\n")) {
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                int colon = line.indexOf(": ");
                String key = line.substring(0, colon);
                String value = line.substring(colon + 2).trim();
                switch (key) {
                    case "protocol_name" -> {
                        name = value;
                        fields = new LinkedHashMap<>();
                        messages = new ArrayList<>();
                        vectors.put(name, new Vector(fields, messages));
                    }
                    case "payload" -> payload = HEX.parseHex(value);
                    case "ciphertext" -> messages.add(new Message(payload, HEX.parseHex(value)));
                    default -> fields.put(key, HEX.parseHex(value));
                }
            }
        }
        return vectors;
    }

    @ParameterizedTest
    @EnumSource(NoiseSuite.class)
    void reproducesPublishedVector(NoiseSuite suite) throws Exception {
        Vector vector = load().get(suite.protocolName());
        assertNotNull(vector, "vector for " + suite.protocolName());
        HandshakeState initiator = new HandshakeState(suite, true, vector.get("init_prologue"),
                X25519.fromPrivate(vector.get("init_static")), X25519.fromPrivate(vector.get("init_ephemeral")));
        HandshakeState responder = new HandshakeState(suite, false, vector.get("resp_prologue"),
                X25519.fromPrivate(vector.get("resp_static")), X25519.fromPrivate(vector.get("resp_ephemeral")));

        List<Message> messages = vector.messages();
        for (int i = 0; i < HandshakeState.MESSAGE_COUNT; i++) {
            HandshakeState writer = i % 2 == 0 ? initiator : responder;
            HandshakeState reader = i % 2 == 0 ? responder : initiator;
            assertTrue(writer.isWriteTurn());
            assertFalse(reader.isWriteTurn());
            byte[] written = writer.writeMessage(messages.get(i).payload());
            assertEquals(HEX.formatHex(messages.get(i).ciphertext()), HEX.formatHex(written), "message " + (i + 1));
            assertArrayEquals(messages.get(i).payload(), reader.readMessage(written), "payload " + (i + 1));
        }
        assertTrue(initiator.isComplete());
        assertTrue(responder.isComplete());
        assertEquals(HEX.formatHex(vector.get("handshake_hash")), HEX.formatHex(initiator.handshakeHash()));
        assertArrayEquals(initiator.handshakeHash(), responder.handshakeHash());
        assertArrayEquals(responder.localStaticPublic(), initiator.remoteStatic());
        assertArrayEquals(initiator.localStaticPublic(), responder.remoteStatic());

        byte[][] initiatorKeys = initiator.splitKeys();
        byte[][] responderKeys = responder.splitKeys();
        CipherState initiatorToResponder = new CipherState(suite);
        initiatorToResponder.initializeKey(initiatorKeys[0]);
        CipherState responderToInitiator = new CipherState(suite);
        responderToInitiator.initializeKey(initiatorKeys[1]);
        CipherState responderReadsFromInitiator = new CipherState(suite);
        responderReadsFromInitiator.initializeKey(responderKeys[0]);
        CipherState initiatorReadsFromResponder = new CipherState(suite);
        initiatorReadsFromResponder.initializeKey(responderKeys[1]);
        byte[] empty = new byte[0];
        for (int i = HandshakeState.MESSAGE_COUNT; i < messages.size(); i++) {
            boolean fromInitiator = i % 2 == 0;
            CipherState sender = fromInitiator ? initiatorToResponder : responderToInitiator;
            CipherState receiver = fromInitiator ? responderReadsFromInitiator : initiatorReadsFromResponder;
            byte[] sealed = sender.encryptWithAd(empty, messages.get(i).payload());
            assertEquals(HEX.formatHex(messages.get(i).ciphertext()), HEX.formatHex(sealed), "transport message " + (i + 1));
            assertArrayEquals(messages.get(i).payload(), receiver.decryptWithAd(empty, sealed));
        }
    }
}
