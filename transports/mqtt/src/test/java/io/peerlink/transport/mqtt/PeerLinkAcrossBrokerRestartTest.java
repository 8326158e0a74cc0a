package io.peerlink.transport.mqtt;

import io.peerlink.testkit.Mosquitto;
import io.peerlink.CloseReason;
import io.peerlink.Device;
import io.peerlink.Endpoint;
import io.peerlink.PeerLink;
import io.peerlink.PeerLinks;
import io.peerlink.SendBufferFullException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Zero messages lost by a {@code PeerLink} over MQTT across a broker restart: Mosquitto with
 * persistence is stopped (SIGTERM) and started again on the same port while one device streams
 * numbered messages to another over an encrypted link. The transports reconnect and resume their
 * persistent sessions, the channel retransmits what the broker did not take, and the receiver
 * gets every message exactly once, in order, on the same link.
 */
class PeerLinkAcrossBrokerRestartTest {
    private static final int MESSAGES = 2_000;
    private static final int SIZE = 1_024;
    private static final int RESTART_AFTER = 500;

    @ParameterizedTest
    @EnumSource(MqttVersion.class)
    void everyMessageArrivesOnceInOrderAcrossARestart(MqttVersion version) throws Exception {
        try (Mosquitto broker = Mosquitto.create().user("alice", Fixtures.USER_PASSWORD).user("bob", Fixtures.USER_PASSWORD)
                .persistence().start()) {
            String base = "mqtt://127.0.0.1:" + broker.port() + "/";
            try (Device alice = PeerLinks.device().ephemeralIdentity().transport(Endpoint.parse(base + "alice"), options("alice", version)).build();
                 Device bob = PeerLinks.device().ephemeralIdentity().transport(Endpoint.parse(base + "bob"), options("bob", version)).build()) {
                List<Integer> received = new CopyOnWriteArrayList<>();
                CompletableFuture<Void> restartPoint = new CompletableFuture<>();
                CompletableFuture<Void> all = new CompletableFuture<>();
                CompletableFuture<PeerLink> accepted = new CompletableFuture<>();
                bob.onIncoming(request -> request.accept().thenAccept(link -> {
                    link.channel().onMessage((message, delivery) -> {
                        assertEquals(SIZE, message.remaining());
                        received.add(message.getInt());
                        if (received.size() == RESTART_AFTER) {
                            restartPoint.complete(null);
                        }
                        if (received.size() == MESSAGES) {
                            all.complete(null);
                        }
                    });
                    accepted.complete(link);
                }));
                PeerLink link = alice.connect(Endpoint.parse(base + "bob"), bob.id()).toCompletableFuture().get(30, TimeUnit.SECONDS);
                PeerLink atBob = accepted.get(30, TimeUnit.SECONDS);

                Thread streamer = new Thread(() -> stream(link), "streamer");
                streamer.start();
                restartPoint.get(60, TimeUnit.SECONDS);
                broker.stop();
                int beforeRestart = received.size();
                assertTrue(beforeRestart < MESSAGES, "the broker stopped mid-stream: " + beforeRestart + " of " + MESSAGES + " delivered");
                Thread.sleep(1_000);
                broker.start();
                all.get(120, TimeUnit.SECONDS);
                streamer.join(30_000);

                assertEquals(MESSAGES, received.size(), "every message once");
                for (int i = 0; i < MESSAGES; i++) {
                    assertEquals(i, received.get(i), "in order");
                }
                assertFalse(link.channel().closed().toCompletableFuture().isDone(), "the link survived the restart");
                assertFalse(atBob.channel().closed().toCompletableFuture().isDone(), "the link survived the restart");
                assertEquals(CloseReason.NORMAL, link.close().toCompletableFuture().get(30, TimeUnit.SECONDS).code());
                assertTrue(broker.log().contains("Saving in-memory database"), "the broker persisted its sessions on SIGTERM");
            }
        }
    }

    private static Map<String, Object> options(String user, MqttVersion version) {
        return Map.of("mqtt.username", user, "mqtt.password", Fixtures.USER_PASSWORD, "mqtt.protocolVersion", version,
                "mqtt.persistentSession", true, "mqtt.reconnectMinDelay", "50ms", "mqtt.reconnectMaxDelay", "1s");
    }

    /** Sends the numbered messages, waiting for room when the send buffer is full. */
    private static void stream(PeerLink link) {
        for (int i = 0; i < MESSAGES; i++) {
            ByteBuffer m = ByteBuffer.allocate(SIZE).putInt(0, i);
            while (true) {
                CompletableFuture<Void> sent = link.channel().send(m.duplicate()).toCompletableFuture();
                if (sent.isCompletedExceptionally()) {
                    try {
                        sent.join();
                    } catch (CompletionException e) {
                        if (!(e.getCause() instanceof SendBufferFullException)) {
                            throw e;
                        }
                    }
                    link.channel().whenWritable().toCompletableFuture().join();
                    continue;
                }
                break;
            }
        }
    }
}
