package io.peerlink.transport.mqtt;

import io.peerlink.testkit.Mosquitto;
import io.peerlink.Device;
import io.peerlink.Endpoint;
import io.peerlink.PathKind;
import io.peerlink.PeerLink;
import io.peerlink.PeerLinkException;
import io.peerlink.PeerLinks;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A {@code PeerLink} over MQTT through the public API: two devices whose only transport is
 * {@code mqtt}/{@code mqtts}, configured with {@code Device.Builder.transport(bind, options)} by
 * option name, link through a real Mosquitto 2 with a password file and the documented ACL. The
 * handshake proves both identities; a transfer of several MiB arrives byte-exact; an admin
 * subscribed to {@code #} sees the traffic but never the canary text sent over the link.
 */
class TwoDevicesOverMqttTest {
    static final String ADMIN = "watcher";
    static final String ACL = MosquittoAclAndTlsTest.ACL + "\nuser " + ADMIN + "\ntopic read #\n";

    private static Mosquitto broker;
    private static Mosquitto tlsBroker;
    private static Mosquitto.Tls tls;

    @BeforeAll
    static void startBrokers() throws Exception {
        broker = Mosquitto.create().acl(ACL);
        tlsBroker = Mosquitto.create();
        for (String user : List.of("alice", "bob", ADMIN)) {
            broker.user(user, Fixtures.USER_PASSWORD);
            tlsBroker.user(user, Fixtures.USER_PASSWORD);
        }
        broker.start();
        tls = Mosquitto.generateTls(tlsBroker.dir());
        tlsBroker.tls(tls).start();
    }

    @AfterAll
    static void stopBrokers() throws Exception {
        if (broker != null) {
            broker.close();
        }
        if (tlsBroker != null) {
            tlsBroker.close();
        }
    }

    static Map<String, Object> login(String user) {
        return Map.of("mqtt.username", user, "mqtt.password", Fixtures.USER_PASSWORD, "mqtt.brokerEnforcesSender", "true",
                "mqtt.reconnectMinDelay", "50ms", "mqtt.reconnectMaxDelay", "1s");
    }

    @Test
    void linkThroughMosquittoIsAuthenticatedByteExactAndOpaqueToTheBroker() throws Exception {
        Path capture = Files.createTempFile("mqtt-capture", ".bin");
        Mosquitto.requireBinary("/usr/bin/mosquitto_sub", "mosquitto-clients");
        int logMark = broker.log().length();
        Process watcher = new ProcessBuilder("/usr/bin/mosquitto_sub", "-h", "127.0.0.1", "-p", Integer.toString(broker.port()),
                "-u", ADMIN, "-P", Fixtures.USER_PASSWORD, "-q", "1", "-t", "#", "-v", "-i", "watcher")
                .redirectErrorStream(true).redirectOutput(capture.toFile()).start();
        try {
            broker.awaitSubscription("watcher", "#", logMark);
            String base = "mqtt://127.0.0.1:" + broker.port() + "/";
            try (Device alice = PeerLinks.device().ephemeralIdentity().transport(Endpoint.parse(base + "alice"), login("alice")).build();
                 Device bob = PeerLinks.device().ephemeralIdentity().transport(Endpoint.parse(base + "bob"), login("bob")).build()) {
                String canary = "CANARY-" + Long.toHexString(new Random().nextLong()) + "-plaintext-must-not-reach-the-broker";
                byte[] payload = transfer(alice, bob, Endpoint.parse(base + "bob"), canary, 3 * 1024 * 1024);
                byte[] seen = Files.readAllBytes(capture);
                assertTrue(seen.length > payload.length, "the admin saw the relayed traffic: " + seen.length + " bytes");
                assertTrue(new String(seen, StandardCharsets.ISO_8859_1).contains("peerlink/in/bob/alice"), "traffic on bob's inbox");
                assertEquals(-1, indexOf(seen, canary.getBytes(StandardCharsets.UTF_8)), "the broker relayed plaintext");
            }
        } finally {
            watcher.destroy();
            watcher.waitFor(5, TimeUnit.SECONDS);
            Files.deleteIfExists(capture);
        }
    }

    @Test
    void tlsAndCredentialsGivenAsTextLinkThroughMqtts() throws Exception {
        String base = "mqtts://127.0.0.1:" + tlsBroker.port() + "/";
        Map<String, Object> options = new java.util.HashMap<>(Map.of("mqtt.tls", "ca=" + tls.caCert(), "mqtt.protocolVersion", "MQTT_3_1_1",
                "mqtt.keepAlive", "20s"));
        options.putAll(Map.of("mqtt.username", "alice", "mqtt.password", Fixtures.USER_PASSWORD));
        Map<String, Object> bobOptions = new java.util.HashMap<>(options);
        bobOptions.put("mqtt.username", "bob");
        try (Device alice = PeerLinks.device().ephemeralIdentity().transport(Endpoint.parse(base + "alice"), options).build();
             Device bob = PeerLinks.device().ephemeralIdentity().transport(Endpoint.parse(base + "bob"), bobOptions).build()) {
            transfer(alice, bob, Endpoint.parse(base + "bob"), "tls", 256 * 1024);
        }
    }

    @Test
    void aWrongPasswordFailsBuildWithTheBrokersReason() {
        String base = "mqtt://127.0.0.1:" + broker.port() + "/";
        PeerLinkException e = assertThrows(PeerLinkException.class, () -> PeerLinks.device().ephemeralIdentity()
                .transport(Endpoint.parse(base + "alice"), Map.of("mqtt.username", "alice", "mqtt.password", "wrong")).build());
        assertTrue(e.getMessage().contains("Not authorized") && e.getMessage().contains(base + "alice"), e.getMessage());
    }

    @Test
    void aMisspelledOptionOrABadValueFailsBuildNamingIt() {
        Endpoint bind = Endpoint.parse("mqtt://127.0.0.1:" + broker.port() + "/alice");
        PeerLinkException unknown = assertThrows(PeerLinkException.class,
                () -> PeerLinks.device().ephemeralIdentity().transport(bind, Map.of("mqtt.user", "alice")).build());
        assertTrue(unknown.getMessage().contains("unknown option 'mqtt.user'") && unknown.getMessage().contains("mqtt.username"),
                unknown.getMessage());
        PeerLinkException version = assertThrows(PeerLinkException.class,
                () -> PeerLinks.device().ephemeralIdentity().transport(bind, Map.of("mqtt.protocolVersion", "5")).build());
        assertTrue(version.getMessage().contains("expected one of MQTT_3_1_1, MQTT_5"), version.getMessage());
        PeerLinkException tlsText = assertThrows(PeerLinkException.class,
                () -> PeerLinks.device().ephemeralIdentity().transport(bind, Map.of("mqtt.tls", "ca=/nonexistent/ca.pem")).build());
        assertTrue(tlsText.getMessage().contains("mqtt.tls") && tlsText.getMessage().contains("/nonexistent/ca.pem"), tlsText.getMessage());
        PeerLinkException range = assertThrows(PeerLinkException.class,
                () -> PeerLinks.device().ephemeralIdentity().transport(bind, Map.of("mqtt.keepAlive", "500ms")).build());
        assertTrue(range.getMessage().contains("mqtt.keepAlive must be whole seconds"), range.getMessage());
    }

    /** Links {@code from} to {@code to} at {@code target}, checks identities, sends {@code size} bytes holding the canary. */
    static byte[] transfer(Device from, Device to, Endpoint target, String canary, int size) throws Exception {
        CompletableFuture<PeerLink> accepted = new CompletableFuture<>();
        LinkedBlockingQueue<byte[]> got = new LinkedBlockingQueue<>();
        to.onIncoming(request -> request.accept().whenComplete((link, e) -> {
            if (e != null) {
                accepted.completeExceptionally(e);
            } else {
                link.channel().onMessage((message, delivery) -> {
                    byte[] bytes = new byte[message.remaining()];
                    message.get(bytes);
                    got.add(bytes);
                });
                accepted.complete(link);
            }
        }));
        PeerLink link = from.connect(target, to.id()).toCompletableFuture().get(30, TimeUnit.SECONDS);
        PeerLink atTo = accepted.get(30, TimeUnit.SECONDS);
        assertEquals(to.id(), link.peer(), "the initiator verified the expected identity");
        assertEquals(from.id(), atTo.peer(), "the acceptor sees the initiator's proven identity");
        assertEquals(target, link.path().remote());
        assertEquals(PathKind.BROKERED, link.path().kind());
        byte[] payload = new byte[size];
        new Random(42).nextBytes(payload);
        byte[] c = canary.getBytes(StandardCharsets.UTF_8);
        for (int at = 0; at + c.length <= payload.length; at += 64 * 1024) {
            System.arraycopy(c, 0, payload, at, c.length);
        }
        link.channel().send(ByteBuffer.wrap(payload)).toCompletableFuture().get(120, TimeUnit.SECONDS);
        byte[] received = got.poll(120, TimeUnit.SECONDS);
        assertArrayEquals(payload, received, "byte-exact");
        atTo.channel().send(ByteBuffer.wrap(c)).toCompletableFuture().get(30, TimeUnit.SECONDS);
        link.close().toCompletableFuture().get(30, TimeUnit.SECONDS);
        return payload;
    }

    static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
