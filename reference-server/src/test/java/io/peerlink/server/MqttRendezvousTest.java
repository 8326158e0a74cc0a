package io.peerlink.server;

import io.peerlink.testkit.Mosquitto;
import io.peerlink.testkit.MosquittoAcl;
import io.peerlink.Device;
import io.peerlink.DeviceId;
import io.peerlink.Endpoint;
import io.peerlink.PathKind;
import io.peerlink.PeerLink;
import io.peerlink.PeerLinks;
import io.peerlink.Rendezvous;
import io.peerlink.protocol.identity.DeviceIdentity;
import io.peerlink.protocol.rendezvous.Handshake;
import io.peerlink.protocol.rendezvous.Message;
import io.peerlink.protocol.rendezvous.RendezvousCodec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The rendezvous over MQTT (docs/protocol-rendezvous.md, "The MQTT carrier") against a real
 * Mosquitto 2 with a {@code password_file} and the documented {@code acl_file}: a device whose only
 * transport and control channel is the broker registers through it, is introduced to a device on
 * the WebSocket, and links to it over the broker; {@code mosquitto_pub}/{@code mosquitto_sub} as
 * another device's login can neither write into nor read that device's rendezvous topics, and a
 * hello for another device on one's own topics is refused.
 */
class MqttRendezvousTest {
    private static final InetSocketAddress LOOPBACK = new InetSocketAddress("127.0.0.1", 0);
    /** docs/protocol-rendezvous.md, "The MQTT carrier": the inbox rules of docs/transports.md plus the rendezvous topics. */
    static final String ACL = MosquittoAcl.inboxes().rendezvous("rendezvous").read("admin", "#").build();

    @TempDir
    Path dir;
    private final List<AutoCloseable> toClose = new ArrayList<>();
    private final List<Process> processes = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        processes.forEach(Process::destroyForcibly);
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    private static String secret(SecureRandom random) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(random.generateSeed(18));
    }

    @Test
    void aDeviceThatReachesOnlyTheBrokerRegistersIsIntroducedAndLinksOverIt() throws Exception {
        Mosquitto.requireBinary("/usr/bin/mosquitto_sub", "mosquitto-clients");
        SecureRandom random = new SecureRandom();
        DeviceIdentity alice = DeviceIdentity.loadOrCreate(dir.resolve("alice.key"));
        DeviceIdentity bob = DeviceIdentity.loadOrCreate(dir.resolve("bob.key"));
        DeviceIdentity mallory = DeviceIdentity.loadOrCreate(dir.resolve("mallory.key"));
        String pa = secret(random);
        String pb = secret(random);
        String pm = secret(random);
        String pr = secret(random);
        String padmin = secret(random);
        Mosquitto broker = Mosquitto.create().user(alice.id().value(), pa).user(bob.id().value(), pb).user(mallory.id().value(), pm)
                .user("rendezvous", pr).user("admin", padmin).acl(ACL).start();
        toClose.add(broker);
        String host = "127.0.0.1:" + broker.port();

        // Independent observers: the operator sees everything; mallory tries to read alice's rendezvous topics.
        Path adminSeen = dir.resolve("admin.txt");
        Path mallorySeen = dir.resolve("mallory.txt");
        Path malloryOwn = dir.resolve("mallory-own.txt");
        int since = broker.log().length();
        sub("admin", padmin, "watch-admin", "peerlink/rv/#", adminSeen, broker.port());
        sub(mallory.id().value(), pm, "watch-mallory", "peerlink/rv/" + alice.id().value() + "/#", mallorySeen, broker.port());
        sub(mallory.id().value(), pm, "watch-mallory-own", "peerlink/rv/" + mallory.id().value() + "/down", malloryOwn, broker.port());
        broker.awaitSubscription("watch-admin", "peerlink/rv/#", since);
        broker.awaitSubscription("watch-mallory", "peerlink/rv/" + alice.id().value() + "/#", since);
        broker.awaitSubscription("watch-mallory-own", "peerlink/rv/" + mallory.id().value() + "/down", since);

        Path passwordFile = dir.resolve("rendezvous.password");
        Files.writeString(passwordFile, pr + "\n");
        ReferenceServer server = ReferenceServer.start(ServerConfig.builder().bindHost("127.0.0.1").httpPort(0).stunPort(0).coapPort(-1)
                .open(true).settings(Map.of("mqtt.rendezvous.broker", "mqtt://" + host, "mqtt.rendezvous.username", "rendezvous",
                        "mqtt.rendezvous.password-file", passwordFile.toString())).build());
        toClose.add(server);

        // Bob: the usual WebSocket rendezvous, UDP, and an inbox on the broker.
        Device b = PeerLinks.device().identity(dir.resolve("bob.key")).rendezvous(server.controlUri()).stunServer(server.stunAddress())
                .udp(LOOPBACK).transport(Endpoint.parse("mqtt://" + host + "/" + bob.id().value()),
                        Map.of("mqtt.username", bob.id().value(), "mqtt.password", pb, "mqtt.brokerEnforcesSender", "true"))
                .connectTimeout(Duration.ofSeconds(10)).build();
        toClose.add(b);
        b.rendezvous().registered().toCompletableFuture().get(15, TimeUnit.SECONDS);
        CompletableFuture<PeerLink> accepted = new CompletableFuture<>();
        CompletableFuture<byte[]> received = new CompletableFuture<>();
        b.onIncoming(request -> request.accept().whenComplete((link, e) -> {
            if (e != null) {
                accepted.completeExceptionally(e);
                return;
            }
            link.channel().onMessage((message, delivery) -> {
                byte[] bytes = new byte[message.remaining()];
                message.get(bytes);
                received.complete(bytes);
            });
            accepted.complete(link);
        }));

        // Alice: the broker is all she has, for the rendezvous and for links.
        long registerStart = System.nanoTime();
        Device a = PeerLinks.device().identity(dir.resolve("alice.key")).rendezvous(URI.create("mqtt://" + host))
                .transport(Endpoint.parse("mqtt://" + host + "/" + alice.id().value()),
                        Map.of("mqtt.username", alice.id().value(), "mqtt.password", pa, "mqtt.brokerEnforcesSender", "true"))
                .connectTimeout(Duration.ofSeconds(10)).build();
        toClose.add(a);
        a.rendezvous().registered().toCompletableFuture().get(15, TimeUnit.SECONDS);
        System.out.println("registered over MQTT in " + (System.nanoTime() - registerStart) / 1_000_000 + " ms");
        assertEquals(Rendezvous.State.REGISTERED, a.rendezvous().state());
        assertTrue(b.rendezvous().isOnline(alice.id()).toCompletableFuture().get(10, TimeUnit.SECONDS), "bob sees alice online");
        assertTrue(a.rendezvous().isOnline(bob.id()).toCompletableFuture().get(10, TimeUnit.SECONDS), "alice sees bob online");

        PeerLink link = a.connect(bob.id()).toCompletableFuture().get(30, TimeUnit.SECONDS);
        assertEquals(bob.id(), link.peer());
        assertEquals(PathKind.BROKERED, link.path().kind(), "alice's link runs over the broker: " + link.path());
        assertEquals(alice.id(), accepted.get(10, TimeUnit.SECONDS).peer());
        byte[] payload = new byte[1024 * 1024];
        new Random(7).nextBytes(payload);
        link.channel().send(ByteBuffer.wrap(payload)).toCompletableFuture().get(60, TimeUnit.SECONDS);
        assertArrayEquals(payload, received.get(60, TimeUnit.SECONDS), "1 MiB byte-exact over the broker");

        // Mallory, with her own valid login, writes "open" into alice's up-topic: the ACL drops it, alice stays registered.
        Mosquitto.exec(List.of("/usr/bin/mosquitto_pub", "-h", "127.0.0.1", "-p", Integer.toString(broker.port()), "-V", "mqttv5",
                "-u", mallory.id().value(), "-P", pm, "-i", "pub-mallory", "-q", "1",
                "-t", "peerlink/rv/" + alice.id().value() + "/up", "-m", "open mallory-was-here"));
        // Positive control: the same publish on her own up-topic reaches the server, which echoes it and sends a challenge.
        pub(mallory.id().value(), pm, "peerlink/rv/" + mallory.id().value() + "/up", "open mallory-own", broker.port());
        // A hello for alice (her public key is no secret) on mallory's own topics: refused before any signature check.
        byte[] zeros = new byte[64];
        String hello = new RendezvousCodec().encode(new Message.Hello(Handshake.VERSION, alice.id(), alice.rawPublicKey(), zeros,
                "127.0.0.1", Map.of(), List.of()));
        pub(mallory.id().value(), pm, "peerlink/rv/" + mallory.id().value() + "/up", hello, broker.port());
        awaitContains(malloryOwn, "belongs to another device");
        awaitContains(adminSeen, "peerlink/rv/" + mallory.id().value() + "/down open mallory-own");
        String own = Files.readString(malloryOwn);
        assertTrue(own.contains("\"type\":\"challenge\""), "the server answered mallory's own open with a challenge: " + own);
        assertTrue(own.contains("\"code\":\"DENIED\""), own);

        // An "open" flood on her own topics: each would cost the server a challenge; beyond the burst they are ignored.
        StringBuilder flood = new StringBuilder();
        for (int i = 0; i < 20; i++) {
            flood.append("open flood").append(i).append('\n');
        }
        Process p = new ProcessBuilder("/usr/bin/mosquitto_pub", "-h", "127.0.0.1", "-p", Integer.toString(broker.port()), "-V", "mqttv5",
                "-u", mallory.id().value(), "-P", pm, "-q", "1", "-t", "peerlink/rv/" + mallory.id().value() + "/up", "-l")
                .redirectErrorStream(true).start();
        p.getOutputStream().write(flood.toString().getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        assertTrue(p.waitFor(20, TimeUnit.SECONDS));
        awaitContains(adminSeen, "peerlink/rv/" + mallory.id().value() + "/up open flood19");
        Thread.sleep(500);
        String afterFlood = Files.readString(adminSeen);
        long echoes = afterFlood.lines().filter(l -> l.startsWith("peerlink/rv/" + mallory.id().value() + "/down open flood")).count();
        assertTrue(echoes >= 1 && echoes <= 5, "opens answered out of 20 in a burst: " + echoes);

        // The carrier's will: a control connection that dies without a word is ended by the broker's "close <tag>".
        // Control (bob's login, no will): a session whose device goes silent ends with HELLO_TIMEOUT after 10 s.
        Thread.sleep(2_200); // mallory's open budget refills
        Path w0 = dir.resolve("w0.txt");
        Path w1 = dir.resolve("w1.txt");
        since = broker.log().length();
        sub(bob.id().value(), pb, "w0", "peerlink/rv/" + bob.id().value() + "/down", w0, broker.port());
        Process dying = new ProcessBuilder("/usr/bin/mosquitto_sub", "-h", "127.0.0.1", "-p", Integer.toString(broker.port()), "-V", "mqttv5",
                "-u", mallory.id().value(), "-P", pm, "-i", "w1", "-q", "1", "-t", "peerlink/rv/" + mallory.id().value() + "/down", "-v",
                "--will-topic", "peerlink/rv/" + mallory.id().value() + "/up", "--will-payload", "close W1", "--will-qos", "1")
                .redirectErrorStream(true).redirectOutput(w1.toFile()).start();
        processes.add(dying);
        broker.awaitSubscription("w0", "peerlink/rv/" + bob.id().value() + "/down", since);
        broker.awaitSubscription("w1", "peerlink/rv/" + mallory.id().value() + "/down", since);
        pub(bob.id().value(), pb, "peerlink/rv/" + bob.id().value() + "/up", "open W0", broker.port());
        pub(mallory.id().value(), pm, "peerlink/rv/" + mallory.id().value() + "/up", "open W1", broker.port());
        awaitContains(w0, "\"type\":\"challenge\"");
        awaitContains(w1, "\"type\":\"challenge\"");
        dying.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        awaitContains(adminSeen, "peerlink/rv/" + mallory.id().value() + "/up close W1");
        awaitContains(w0, "HELLO_TIMEOUT");
        Thread.sleep(1_000);
        assertFalse(Files.readString(malloryOwn).contains("HELLO_TIMEOUT"), "the will ended mallory's session before its hello timeout");

        assertEquals(Rendezvous.State.REGISTERED, a.rendezvous().state(), "alice's session survived mallory's publish");
        assertTrue(b.rendezvous().isOnline(alice.id()).toCompletableFuture().get(10, TimeUnit.SECONDS), "alice still online");
        String admin = Files.readString(adminSeen);
        assertTrue(admin.contains("peerlink/rv/" + alice.id().value() + "/down {\"type\":\"challenge\""), "admin saw alice's challenge");
        assertTrue(admin.contains("peerlink/rv/" + alice.id().value() + "/down {\"type\":\"introduce\""), "admin saw alice's introduction");
        assertFalse(admin.contains("mallory-was-here"), "the broker passed mallory's publish on alice's up-topic");
        assertEquals("", Files.readString(mallorySeen), "mallory read alice's rendezvous topics");
        link.close().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    /** {@code mqtts://} for the server and the device, the device on MQTT 3.1.1 (its transport's options), the server on MQTT 5. */
    @Test
    void registersOverTlsWithMqtt311() throws Exception {
        SecureRandom random = new SecureRandom();
        DeviceIdentity alice = DeviceIdentity.loadOrCreate(dir.resolve("alice.key"));
        String pa = secret(random);
        String pr = secret(random);
        Mosquitto broker = Mosquitto.create();
        toClose.add(broker);
        Mosquitto.Tls tls = Mosquitto.generateTls(broker.dir());
        broker.user(alice.id().value(), pa).user("rendezvous", pr).acl(ACL).tls(tls).start();
        String host = "127.0.0.1:" + broker.port();
        Path passwordFile = dir.resolve("rendezvous.password");
        Files.writeString(passwordFile, pr + "\n");
        ReferenceServer server = ReferenceServer.start(ServerConfig.builder().bindHost("127.0.0.1").httpPort(0).stunPort(0).coapPort(-1)
                .open(true).settings(Map.of("mqtt.rendezvous.broker", "mqtts://" + host, "mqtt.rendezvous.username", "rendezvous",
                        "mqtt.rendezvous.password-file", passwordFile.toString(), "mqtt.rendezvous.tls-ca", tls.caCert().toString()))
                .build());
        toClose.add(server);
        Device a = PeerLinks.device().identity(dir.resolve("alice.key")).rendezvous(URI.create("mqtts://" + host))
                .transport(Endpoint.parse("mqtts://" + host + "/" + alice.id().value()),
                        Map.of("mqtt.username", alice.id().value(), "mqtt.password", pa, "mqtt.protocolVersion", "MQTT_3_1_1",
                                "mqtt.tls", "ca=" + tls.caCert()))
                .build();
        toClose.add(a);
        a.rendezvous().registered().toCompletableFuture().get(20, TimeUnit.SECONDS);
        assertEquals(Rendezvous.State.REGISTERED, a.rendezvous().state());
        assertTrue(a.rendezvous().isOnline(alice.id()).toCompletableFuture().get(10, TimeUnit.SECONDS), "the server answers over TLS");
        assertTrue(broker.log().contains(alice.id().value() + "-rv"), "the carrier logged in with its own client ID");

        // A broker restart: the server's link and the device's carrier both reconnect, and the device registers again.
        CompletableFuture<Void> lost = new CompletableFuture<>();
        a.rendezvous().onStateChange(state -> {
            if (state != Rendezvous.State.REGISTERED) {
                lost.complete(null);
            }
        });
        broker.stop();
        lost.get(20, TimeUnit.SECONDS);
        broker.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(40);
        while (a.rendezvous().state() != Rendezvous.State.REGISTERED && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertEquals(Rendezvous.State.REGISTERED, a.rendezvous().state(), "registered again after the broker restart");
        assertTrue(a.rendezvous().isOnline(alice.id()).toCompletableFuture().get(10, TimeUnit.SECONDS), "the server answers again");
    }

    private void sub(String user, String password, String clientId, String filter, Path out, int port) throws IOException {
        Process p = new ProcessBuilder("/usr/bin/mosquitto_sub", "-h", "127.0.0.1", "-p", Integer.toString(port), "-V", "mqttv5",
                "-u", user, "-P", password, "-i", clientId, "-q", "1", "-t", filter, "-v")
                .redirectErrorStream(true).redirectOutput(out.toFile()).start();
        processes.add(p);
    }

    private static void pub(String user, String password, String topic, String text, int port) throws Exception {
        Mosquitto.Result r = Mosquitto.exec(List.of("/usr/bin/mosquitto_pub", "-h", "127.0.0.1", "-p", Integer.toString(port),
                "-V", "mqttv5", "-u", user, "-P", password, "-q", "1", "-t", topic, "-m", text));
        assertEquals(0, r.exitCode(), r.output());
    }

    private static void awaitContains(Path file, String text) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (System.nanoTime() < deadline) {
            if (Files.exists(file) && Files.readString(file, StandardCharsets.UTF_8).contains(text)) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("'" + text + "' not in " + file + ": " + (Files.exists(file) ? Files.readString(file) : "(none)"));
    }
}
