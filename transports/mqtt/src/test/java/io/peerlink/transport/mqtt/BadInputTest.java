package io.peerlink.transport.mqtt;

import io.peerlink.testkit.Mosquitto;
import io.peerlink.Endpoint;
import io.peerlink.spi.Transport;
import io.peerlink.spi.TransportConfig;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Hostile and mistaken input against a real Mosquitto: oversized payloads both ways, topics that
 * are malformed, foreign or retained, endpoints that are no inbox, a storm of bad logins, two
 * clients fighting over one session, and a broker that is down. Each gives a clear error or a
 * counted drop, and the other clients carry on.
 */
class BadInputTest {

    private static Mosquitto broker;
    private final List<Transport> transports = new ArrayList<>();

    @BeforeAll
    static void startBroker() throws Exception {
        broker = Mosquitto.create();
        for (String user : List.of("alice", "bob", "carol", "dup", "storm", "down")) {
            broker.user(user, Fixtures.USER_PASSWORD);
        }
        broker.start();
    }

    @AfterAll
    static void stopBroker() throws Exception {
        if (broker != null) {
            broker.close();
        }
    }

    @AfterEach
    void destroyTransports() {
        transports.forEach(Transport::destroy);
    }

    private MqttTransport started(TransportConfig.Builder config, Received handler) throws IOException {
        MqttTransport t = (MqttTransport) Fixtures.create(config);
        transports.add(t);
        t.start(handler);
        return t;
    }

    private static TransportConfig.Builder login(Mosquitto at, String user, MqttVersion version) {
        // Clean sessions: these tests reuse inboxes and must not inherit each other's queues.
        return Fixtures.login(at, user, version).set(MqttOptions.CLIENT_ID, user + "-" + version)
                .set(MqttOptions.PERSISTENT_SESSION, false);
    }

    private static Mosquitto.Result pub(Mosquitto at, String topic, byte[] payload, MqttVersion version, String... extra) throws Exception {
        Path file = Files.createTempFile("payload", ".bin");
        Files.write(file, payload);
        List<String> args = new ArrayList<>(List.of("-V", version == MqttVersion.MQTT_5 ? "mqttv5" : "mqttv311"));
        args.addAll(List.of(extra));
        try {
            return Fixtures.mosquittoPub(at, "carol", Fixtures.USER_PASSWORD, topic, file, args.toArray(String[]::new));
        } finally {
            Files.delete(file);
        }
    }

    // ------------------------------------------------------------------ sizes

    @ParameterizedTest
    @EnumSource(MqttVersion.class)
    void anOversizedSendIsRefusedBeforeAnythingIsSent(MqttVersion version) throws Exception {
        MqttTransport alice = started(login(broker, "alice", version).set(MqttOptions.MAX_DATAGRAM_SIZE, 1_000), new Received());
        Received atBob = new Received();
        started(login(broker, "bob", version), atBob);
        Endpoint bob = Fixtures.endpoint(broker, "bob");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> alice.send(bob, ByteBuffer.allocate(1_001)));
        assertEquals("datagram of 1001 bytes exceeds mqtt.maxDatagramSize = 1000", e.getMessage());
        assertTrue(alice.send(bob, ByteBuffer.allocate(1_000)));
        assertEquals(1_000, atBob.poll(Mosquitto.timeout()).bytes().length);
    }

    @ParameterizedTest
    @EnumSource(MqttVersion.class)
    void anOversizedIncomingPayloadIsDroppedAndTheNextOneArrives(MqttVersion version) throws Exception {
        Received atBob = new Received();
        MqttTransport bob = started(login(broker, "bob", version).set(MqttOptions.MAX_DATAGRAM_SIZE, 1_000), atBob);
        assertEquals(0, pub(broker, "peerlink/in/bob/carol", new byte[50_000], version).exitCode());
        assertEquals(0, pub(broker, "peerlink/in/bob/carol", "small".getBytes(StandardCharsets.UTF_8), version).exitCode());
        Received.Datagram got = atBob.poll(Mosquitto.timeout());
        assertNotNull(got);
        assertEquals("small", new String(got.bytes(), StandardCharsets.UTF_8), "the oversized payload never reaches the handler");
        if (version == MqttVersion.MQTT_3_1_1) {
            assertEquals(1, bob.oversizedDatagrams(), "MQTT 3.1.1 cannot tell the broker a limit: the transport drops and counts it");
        } else {
            assertEquals(0, bob.oversizedDatagrams(), "MQTT 5 announced its Maximum Packet Size, so the broker did not send it");
        }
        assertEquals(Transport.State.STARTED, bob.state());
    }

    @Test
    void aBrokerPacketLimitBelowTheDatagramSizeFailsStartWithBothNumbers() throws Exception {
        try (Mosquitto small = Mosquitto.create().user("alice", Fixtures.USER_PASSWORD).config("max_packet_size 2000").start()) {
            Transport tooBig = Fixtures.create(login(small, "alice", MqttVersion.MQTT_5));
            transports.add(tooBig);
            IOException e = assertThrows(IOException.class, () -> tooBig.start(new Received()));
            assertTrue(e.getMessage().contains("accepts packets of at most 2000 bytes")
                    && e.getMessage().contains("mqtt.maxDatagramSize = 65507"), e.getMessage());
            assertEquals(Transport.State.CREATED, tooBig.state());
            Transport fits = started(login(small, "alice", MqttVersion.MQTT_5).set(MqttOptions.MAX_DATAGRAM_SIZE, 1_500), new Received());
            assertEquals(Transport.State.STARTED, fits.state());
        }
    }

    /**
     * MQTT 3.1.1 cannot learn the broker's limit; the broker closes the connection of a client
     * that sends a bigger packet. The send fails, the transport reconnects, other clients never notice.
     */
    @Test
    void aPacketTheBrokerRejectsFailsItsSendAndTheTransportRecovers() throws Exception {
        try (Mosquitto small = Mosquitto.create().user("alice", Fixtures.USER_PASSWORD).user("bob", Fixtures.USER_PASSWORD)
                .config("max_packet_size 2000").start()) {
            MqttTransport alice = started(login(small, "alice", MqttVersion.MQTT_3_1_1), new Received());
            Received atBob = new Received();
            started(login(small, "bob", MqttVersion.MQTT_3_1_1), atBob);
            Endpoint bob = Fixtures.endpoint(small, "bob");
            CompletableFuture<Void> outcome = new CompletableFuture<>();
            assertTrue(alice.send(bob, ByteBuffer.allocate(5_000), MosquittoInteropTest.callback(outcome)));
            ExecutionException e = assertThrows(ExecutionException.class, () -> outcome.get(20, TimeUnit.SECONDS));
            assertInstanceOf(IOException.class, e.getCause());
            assertTrue(e.getCause().getMessage().contains("before the PUBACK"), e.getCause().getMessage());
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (!alice.send(bob, ByteBuffer.wrap("after".getBytes(StandardCharsets.UTF_8)))) {
                assertTrue(System.nanoTime() < deadline, "alice did not reconnect");
                Thread.sleep(20);
            }
            assertEquals("after", new String(atBob.poll(Mosquitto.timeout()).bytes(), StandardCharsets.UTF_8));
            assertTrue(atBob.failures.isEmpty());
        }
    }

    // ------------------------------------------------------------------ topics and endpoints

    @ParameterizedTest
    @EnumSource(MqttVersion.class)
    void malformedForeignAndRetainedTopicsAreDroppedAndCounted(MqttVersion version) throws Exception {
        // A retained message waits on bob's inbox before bob subscribes: it would be replayed on every subscription.
        assertEquals(0, pub(broker, "peerlink/in/bob/carol", "stale retained".getBytes(StandardCharsets.UTF_8), version, "-r").exitCode());
        try {
            Received atBob = new Received();
            MqttTransport bob = started(login(broker, "bob", version), atBob);
            pub(broker, "peerlink/in/bob/", "empty sender".getBytes(StandardCharsets.UTF_8), version);
            pub(broker, "peerlink/in/bob/bad.sender", "dot in sender".getBytes(StandardCharsets.UTF_8), version);
            pub(broker, "peerlink/in/bob/" + "x".repeat(200), "long sender".getBytes(StandardCharsets.UTF_8), version);
            pub(broker, "peerlink/in/bob/x/y", "deeper level".getBytes(StandardCharsets.UTF_8), version);
            pub(broker, "peerlink/in/bobby/carol", "other inbox".getBytes(StandardCharsets.UTF_8), version);
            pub(broker, "peerlink/in/bob/carol", "legit".getBytes(StandardCharsets.UTF_8), version);
            Received.Datagram got = atBob.poll(Mosquitto.timeout());
            assertNotNull(got);
            assertEquals("legit", new String(got.bytes(), StandardCharsets.UTF_8));
            assertNull(atBob.poll(Duration.ofMillis(300)), "nothing but the legitimate datagram is delivered");
            assertEquals(3, bob.malformedTopics(), "empty, invalid and over-long sender levels");
            assertEquals(1, bob.retainedDatagrams());
            assertEquals(Transport.State.STARTED, bob.state());
        } finally {
            pub(broker, "peerlink/in/bob/carol", new byte[0], version, "-r"); // clears the retained message
        }
    }

    @Test
    void endpointsThatAreNoInboxOfThisBrokerAreRefused() throws Exception {
        MqttTransport alice = started(login(broker, "alice", MqttVersion.MQTT_5), new Received());
        int port = broker.port();
        List<Endpoint> bad = List.of(
                new Endpoint("mqtt", "127.0.0.1", port, ""),
                new Endpoint("mqtt", "127.0.0.1", port, "/"),
                new Endpoint("mqtt", "127.0.0.1", port, "/a/b"),
                new Endpoint("mqtt", "127.0.0.1", port, "/+"),
                new Endpoint("mqtt", "127.0.0.1", port, "/#"),
                new Endpoint("mqtt", "127.0.0.1", port, "/bad.id"),
                new Endpoint("mqtt", "127.0.0.1", port, "/" + "x".repeat(129)),
                new Endpoint("mqtt", "127.0.0.1", port, "/caf\u00e9"),
                new Endpoint("mqtt", "localhost", port, "/bob"), // another spelling of the broker is another broker
                new Endpoint("mqtt", "127.0.0.1", port + 1, "/bob"),
                new Endpoint("mqtts", "127.0.0.1", port, "/bob"),
                new Endpoint("udp", "127.0.0.1", port, ""));
        for (Endpoint e : bad) {
            assertFalse(alice.supports(e), "supports " + e);
            IllegalArgumentException refused = assertThrows(IllegalArgumentException.class, () -> alice.send(e, ByteBuffer.allocate(1)), e.toString());
            assertTrue(refused.getMessage().contains("cannot send to " + e), refused.getMessage());
        }
        assertTrue(alice.supports(new Endpoint("mqtt", "127.0.0.1", port, "/" + "x".repeat(128))));
    }

    // ------------------------------------------------------------------ storms and loops

    @ParameterizedTest
    @EnumSource(MqttVersion.class)
    void aStormOfBadLoginsGetsClearRefusalsAndDoesNotDisturbOthers(MqttVersion version) throws Exception {
        MqttTransport alice = started(login(broker, "alice", version), new Received());
        Set<Integer> atBobSeqs = ConcurrentHashMap.newKeySet();
        Received bobFailures = new Received();
        MqttTransport bob = (MqttTransport) Fixtures.create(login(broker, "bob", version));
        transports.add(bob);
        bob.start(new io.peerlink.spi.DatagramHandler() {
            @Override
            public void onDatagram(Endpoint source, ByteBuffer datagram) {
                atBobSeqs.add(datagram.getInt(datagram.position()));
            }

            @Override
            public void onTransportFailure(Throwable failure) {
                bobFailures.failures.add(failure);
            }
        });
        int count = 400;
        Endpoint toBob = Fixtures.endpoint(broker, "bob");
        Thread stream = new Thread(() -> {
            for (int i = 0; i < count; i++) {
                while (!alice.send(toBob, ByteBuffer.allocate(64).putInt(0, i))) {
                    Thread.onSpinWait();
                }
                if (i % 8 == 0) {
                    sleep(2);
                }
            }
        }, "storm-test-stream");
        stream.start();

        int attackers = 40;
        ExecutorService pool = Executors.newFixedThreadPool(8);
        List<Throwable> refusals = new CopyOnWriteArrayList<>();
        List<Future<?>> futures = new ArrayList<>();
        for (int i = 0; i < attackers; i++) {
            int n = i;
            futures.add(pool.submit(() -> {
                Transport attacker = Fixtures.create(Fixtures.config(broker, "storm", version)
                        .set(MqttOptions.USERNAME, "storm").set(MqttOptions.PASSWORD, "guess-" + n)
                        .set(MqttOptions.CLIENT_ID, "storm-" + n));
                try {
                    attacker.start(new Received());
                    fail("a wrong password was accepted");
                } catch (IOException e) {
                    refusals.add(e);
                } finally {
                    attacker.destroy();
                }
                return null;
            }));
        }
        for (Future<?> f : futures) {
            f.get(60, TimeUnit.SECONDS);
        }
        pool.shutdown();
        stream.join(TimeUnit.SECONDS.toMillis(60));
        assertEquals(attackers, refusals.size());
        for (Throwable r : refusals) {
            MqttConnectionRefusedException refused = assertInstanceOf(MqttConnectionRefusedException.class, r);
            assertTrue(refused.permanent(), refused.getMessage());
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (atBobSeqs.size() < count && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(count, atBobSeqs.size(), "every datagram of the legitimate pair arrived during the storm");
        assertTrue(bobFailures.failures.isEmpty(), "bob noticed nothing: " + bobFailures.failures);
        assertEquals(1, bob.connectAttempts(), "bob never had to reconnect");
        assertEquals(1, alice.connectAttempts(), "alice never had to reconnect");
    }

    /**
     * Mosquitto 2.0 closes the older of two connections with one client ID without a DISCONNECT
     * reason (even for MQTT 5), so the two take the session from each other in turns; the
     * backoff keeps that to a few attempts a second. (A broker that sends MQTT 5's "Session taken
     * over" stops the old transport instead: see MqttTransportReconnectTest.)
     */
    @ParameterizedTest
    @EnumSource(MqttVersion.class)
    void aSessionFightIsSlowedByTheBackoff(MqttVersion version) throws Exception {
        MqttTransport a = started(login(broker, "dup", version).set(MqttOptions.CLIENT_ID, "dup-" + version), new Received());
        MqttTransport b = started(login(broker, "dup", version).set(MqttOptions.CLIENT_ID, "dup-" + version), new Received());
        Thread.sleep(4_000);
        long attempts = a.connectAttempts() + b.connectAttempts();
        // Backoff from 50 ms doubling to 1 s: about a dozen attempts in 4 s; a loop without backoff makes hundreds.
        assertTrue(attempts >= 3 && attempts <= 40, "connect attempts of the two fighting clients in 4 s: " + attempts);
        b.destroy();
        Received settle = new Received();
        a.stop();
        a.start(settle);
        MqttTransport alice = started(login(broker, "alice", version), new Received());
        assertTrue(alice.send(Fixtures.endpoint(broker, "dup"), ByteBuffer.wrap(new byte[] {8})));
        assertNotNull(settle.poll(Mosquitto.timeout()), "once alone, the client keeps its session and receives");
    }

    @ParameterizedTest
    @EnumSource(MqttVersion.class)
    void whileTheBrokerIsDownReconnectsBackOffAndThenSucceed(MqttVersion version) throws Exception {
        try (Mosquitto flaky = Mosquitto.create().user("down", Fixtures.USER_PASSWORD).user("alice", Fixtures.USER_PASSWORD).start()) {
            Received atDown = new Received();
            MqttTransport down = started(login(flaky, "down", version), atDown);
            flaky.stop();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (down.connected() && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertFalse(down.connected(), "the loss of the broker was noticed");
            assertFalse(down.send(Fixtures.endpoint(flaky, "alice"), ByteBuffer.allocate(8)), "send returns false while reconnecting");
            long before = down.connectAttempts();
            Thread.sleep(3_000);
            long during = down.connectAttempts() - before;
            // 50, 100, 200, 400, 800, 1000 ms: about six attempts in 3 s; never a tight loop.
            assertTrue(during >= 2 && during <= 12, "reconnect attempts in 3 s without a broker: " + during);
            flaky.start();
            deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (!down.connected() && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertTrue(down.connected(), "reconnected once the broker was back");
            MqttTransport alice = started(login(flaky, "alice", version), new Received());
            assertTrue(alice.send(Fixtures.endpoint(flaky, "down"), ByteBuffer.wrap(new byte[] {1})));
            assertNotNull(atDown.poll(Mosquitto.timeout()));
            assertTrue(atDown.failures.isEmpty(), "a broker outage is not a transport failure: " + atDown.failures);
            assertEquals(Transport.State.STARTED, down.state());
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static List<String> sorted(Set<String> s) {
        List<String> l = new ArrayList<>(s);
        Collections.sort(l);
        return l;
    }
}
