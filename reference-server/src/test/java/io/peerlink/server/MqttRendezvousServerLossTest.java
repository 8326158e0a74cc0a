package io.peerlink.server;

import io.peerlink.Device;
import io.peerlink.Endpoint;
import io.peerlink.PeerLinks;
import io.peerlink.Rendezvous;
import io.peerlink.protocol.identity.DeviceIdentity;
import io.peerlink.testkit.Mosquitto;
import io.peerlink.testkit.MosquittoAcl;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A rendezvous server that loses only its broker connection (docs/protocol-rendezvous.md, "The MQTT
 * carrier"): the broker publishes the server's will {@code offline} on {@code peerlink/rv/server}, and a
 * device whose login may read that topic leaves its dead session at once; a device whose ACL does not
 * let it read the topic (the baseline, same run) notices only through the control keepalive.
 */
class MqttRendezvousServerLossTest {
    @TempDir
    Path dir;
    private final List<AutoCloseable> toClose = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    /** Completes with the nanoTime at which the device first leaves REGISTERED. */
    private static CompletableFuture<Long> leaves(Device d) {
        CompletableFuture<Long> left = new CompletableFuture<>();
        d.rendezvous().onStateChange(s -> {
            if (s != Rendezvous.State.REGISTERED) {
                left.complete(System.nanoTime());
            }
        });
        return left;
    }

    @Test
    void devicesLearnAtOnceThatTheServerLostItsBrokerConnection() throws Exception {
        SecureRandom random = new SecureRandom();
        DeviceIdentity alice = DeviceIdentity.loadOrCreate(dir.resolve("alice.key"));
        DeviceIdentity carol = DeviceIdentity.loadOrCreate(dir.resolve("carol.key"));
        String pa = HexFormat.of().formatHex(random.generateSeed(16));
        String pc = HexFormat.of().formatHex(random.generateSeed(16));
        String pr = HexFormat.of().formatHex(random.generateSeed(16));
        // The documented ACL for alice; carol lacks only the read of the server's status topic.
        Mosquitto broker = Mosquitto.create().user(alice.id().value(), pa).user(carol.id().value(), pc).user("rendezvous", pr)
                .acl(MosquittoAcl.inboxes().rendezvous("rendezvous").withoutStatusForDevices()
                        .read(alice.id().value(), MosquittoAcl.STATUS_TOPIC).build()).start();
        toClose.add(broker);
        String host = "127.0.0.1:" + broker.port();
        // The server reaches the broker through a forwarder the test can cut; the devices reach it directly.
        TcpForwarder cut = new TcpForwarder(broker.port());
        toClose.add(cut);
        Path passwordFile = dir.resolve("rendezvous.password");
        Files.writeString(passwordFile, pr + "\n");
        ReferenceServer server = ReferenceServer.start(ServerConfig.builder().bindHost("127.0.0.1").httpPort(0).stunPort(0).coapPort(-1)
                .open(true).settings(Map.of("mqtt.rendezvous.broker", "mqtt://127.0.0.1:" + cut.port(),
                        "mqtt.rendezvous.username", "rendezvous", "mqtt.rendezvous.password-file", passwordFile.toString()))
                .build());
        toClose.add(server);

        Device a = PeerLinks.device().identity(dir.resolve("alice.key")).rendezvous(URI.create("mqtt://" + host))
                .transport(Endpoint.parse("mqtt://" + host + "/" + alice.id().value()),
                        Map.of("mqtt.username", alice.id().value(), "mqtt.password", pa, "mqtt.brokerEnforcesSender", "true"))
                .connectTimeout(Duration.ofSeconds(10)).build();
        toClose.add(a);
        Device c = PeerLinks.device().identity(dir.resolve("carol.key")).rendezvous(URI.create("mqtt://" + host))
                .transport(Endpoint.parse("mqtt://" + host + "/" + carol.id().value()),
                        Map.of("mqtt.username", carol.id().value(), "mqtt.password", pc, "mqtt.brokerEnforcesSender", "true"))
                .connectTimeout(Duration.ofSeconds(10)).build();
        toClose.add(c);
        a.rendezvous().registered().toCompletableFuture().get(15, TimeUnit.SECONDS);
        c.rendezvous().registered().toCompletableFuture().get(15, TimeUnit.SECONDS);
        CompletableFuture<Long> aliceLeft = leaves(a);
        CompletableFuture<Long> carolLeft = leaves(c);

        long cutAt = System.nanoTime();
        cut.close(); // the server's broker connection ends (and cannot come back); the server process runs on
        long aliceMs = (aliceLeft.get(10, TimeUnit.SECONDS) - cutAt) / 1_000_000;
        long carolMs = (carolLeft.get(90, TimeUnit.SECONDS) - cutAt) / 1_000_000;
        System.out.printf("server lost its broker connection: noticed by the status subscriber after %d ms, "
                + "by the keepalive-only device after %d ms (load %s)%n", aliceMs, carolMs,
                Files.readString(Path.of("/proc/loadavg")).trim());
        assertTrue(aliceMs < 5_000, "the device reading peerlink/rv/server left within 5 s: " + aliceMs + " ms");
        assertTrue(carolMs > aliceMs, "the keepalive-only baseline is slower: " + carolMs + " ms vs " + aliceMs + " ms");
    }

    /**
     * The server's broker connection goes silent without closing (a dead network path): the broker
     * publishes the will after 1.5 x the server link's MQTT keep-alive ({@code mqtt.rendezvous.keep-alive},
     * 2 s here: 3 s), so the device learns of it then, well before its own 45–60 s keepalive.
     */
    @Test
    void aSilentServerConnectionIsNoticedAfterTheBrokersKeepAliveTimeout() throws Exception {
        SecureRandom random = new SecureRandom();
        DeviceIdentity alice = DeviceIdentity.loadOrCreate(dir.resolve("alice.key"));
        String pa = HexFormat.of().formatHex(random.generateSeed(16));
        String pr = HexFormat.of().formatHex(random.generateSeed(16));
        Mosquitto broker = Mosquitto.create().user(alice.id().value(), pa).user("rendezvous", pr)
                .acl(MqttRendezvousTest.ACL).start();
        toClose.add(broker);
        String host = "127.0.0.1:" + broker.port();
        TcpForwarder path = new TcpForwarder(broker.port());
        toClose.add(path);
        Path passwordFile = dir.resolve("rendezvous.password");
        Files.writeString(passwordFile, pr + "\n");
        ReferenceServer server = ReferenceServer.start(ServerConfig.builder().bindHost("127.0.0.1").httpPort(0).stunPort(0).coapPort(-1)
                .open(true).settings(Map.of("mqtt.rendezvous.broker", "mqtt://127.0.0.1:" + path.port(),
                        "mqtt.rendezvous.username", "rendezvous", "mqtt.rendezvous.password-file", passwordFile.toString(),
                        "mqtt.rendezvous.keep-alive", "2s"))
                .build());
        toClose.add(server);
        Device a = PeerLinks.device().identity(dir.resolve("alice.key")).rendezvous(URI.create("mqtt://" + host))
                .transport(Endpoint.parse("mqtt://" + host + "/" + alice.id().value()),
                        Map.of("mqtt.username", alice.id().value(), "mqtt.password", pa, "mqtt.brokerEnforcesSender", "true"))
                .connectTimeout(Duration.ofSeconds(10)).build();
        toClose.add(a);
        a.rendezvous().registered().toCompletableFuture().get(15, TimeUnit.SECONDS);
        CompletableFuture<Long> aliceLeft = leaves(a);

        long cutAt = System.nanoTime();
        path.goSilent();
        long aliceMs = (aliceLeft.get(30, TimeUnit.SECONDS) - cutAt) / 1_000_000;
        System.out.printf("server's broker connection went silent: noticed by the status subscriber after %d ms "
                + "(keep-alive 2 s; load %s)%n", aliceMs, Files.readString(Path.of("/proc/loadavg")).trim());
        assertTrue(aliceMs >= 2_000, "not before the broker's keep-alive timeout: " + aliceMs + " ms");
        assertTrue(aliceMs < 15_000, "well before the device's own keepalive (45-60 s): " + aliceMs + " ms");
    }
}
