package io.peerlink.transport.mqtt;

import io.peerlink.testkit.Mosquitto;
import io.peerlink.Endpoint;
import io.peerlink.spi.SendCallback;
import io.peerlink.spi.Transport;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.ByteBuffer;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Zero loss at QoS 1 across a broker restart: Mosquitto with persistence is stopped (SIGTERM, so
 * it writes its database) and started again on the same port while one transport streams
 * datagrams to another. Both reconnect by themselves and resume their persistent sessions; every
 * datagram whose send completed (PUBACK) arrives, and the sender resends those whose send failed
 * when the connection broke, as PeerLink's ARQ would.
 */
class BrokerRestartTest {

    private static final int COUNT = 3_000;
    private static final int SIZE = 1_200;

    @ParameterizedTest
    @EnumSource(MqttVersion.class)
    void noAcknowledgedDatagramIsLostAcrossABrokerRestart(MqttVersion version) throws Exception {
        try (Mosquitto broker = Mosquitto.create().user("sender", Fixtures.USER_PASSWORD).user("receiver", Fixtures.USER_PASSWORD)
                .persistence().start()) {
            Set<Integer> received = ConcurrentHashMap.newKeySet();
            AtomicLong duplicates = new AtomicLong();
            Received failures = new Received();
            Transport receiver = Fixtures.create(Fixtures.login(broker, "receiver", version));
            receiver.start(new io.peerlink.spi.DatagramHandler() {
                @Override
                public void onDatagram(Endpoint source, ByteBuffer datagram) {
                    int seq = datagram.getInt(datagram.position());
                    if (datagram.remaining() != SIZE || !received.add(seq)) {
                        duplicates.incrementAndGet(); // QoS 1 is at least once
                    }
                }

                @Override
                public void onTransportFailure(Throwable failure) {
                    failures.failures.add(failure);
                }
            });
            MqttTransport sender = (MqttTransport) Fixtures.create(Fixtures.login(broker, "sender", version));
            sender.start(failures);
            Endpoint to = Fixtures.endpoint(broker, "receiver");

            Set<Integer> acknowledged = ConcurrentHashMap.newKeySet();
            ConcurrentLinkedQueue<Integer> resend = new ConcurrentLinkedQueue<>();
            AtomicInteger failedSends = new AtomicInteger();
            Thread streamer = new Thread(() -> {
                int next = 0;
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
                while (acknowledged.size() < COUNT && System.nanoTime() < deadline) {
                    Integer seq = resend.poll();
                    if (seq == null && next < COUNT) {
                        seq = next++;
                    }
                    if (seq == null) {
                        sleep(1); // all sent; waiting for PUBACKs or failures to resend
                        continue;
                    }
                    int s = seq;
                    ByteBuffer datagram = ByteBuffer.allocate(SIZE).putInt(0, s);
                    boolean accepted = sender.send(to, datagram, new SendCallback() {
                        @Override
                        public void completed() {
                            acknowledged.add(s);
                        }

                        @Override
                        public void failed(Throwable cause) {
                            failedSends.incrementAndGet();
                            resend.add(s);
                        }
                    });
                    if (!accepted) {
                        resend.add(s); // window full or reconnecting
                        sleep(1);
                    } else if (s % 4 == 0) {
                        sleep(1); // a steady stream, so the restart falls in the middle of it
                    }
                }
            }, "restart-test-streamer");
            streamer.start();

            waitUntil(() -> acknowledged.size() >= COUNT / 3, 60, "a third of the datagrams acknowledged before the restart");
            broker.stop();
            int acknowledgedBeforeRestart = acknowledged.size();
            Thread.sleep(500);
            broker.start();
            streamer.join(TimeUnit.SECONDS.toMillis(150));
            assertEquals(COUNT, acknowledged.size(), "every datagram was eventually acknowledged by the broker");
            waitUntil(() -> received.size() == COUNT, 60, "all " + COUNT + " datagrams received; missing: " + missing(received));
            assertTrue(acknowledgedBeforeRestart < COUNT, "the restart happened mid-stream");
            assertTrue(sender.connectAttempts() >= 2, "the sender reconnected by itself");
            assertEquals(Transport.State.STARTED, sender.state());
            assertEquals(Transport.State.STARTED, receiver.state());
            assertTrue(failures.failures.isEmpty(), "no transport failed: " + failures.failures);
            System.out.printf("%s: %d datagrams, restart after %d acknowledged, %d sends failed by the restart and resent, "
                    + "%d duplicates delivered, 0 lost%n", version, COUNT, acknowledgedBeforeRestart, failedSends.get(), duplicates.get());
            sender.destroy();
            receiver.destroy();
        }
    }

    private static String missing(Set<Integer> received) {
        StringBuilder b = new StringBuilder();
        int shown = 0;
        for (int i = 0; i < COUNT && shown < 20; i++) {
            if (!received.contains(i)) {
                b.append(i).append(' ');
                shown++;
            }
        }
        return b.toString();
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void waitUntil(java.util.function.BooleanSupplier condition, int seconds, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("not reached within " + seconds + " s (liveness bound): " + what);
            }
            Thread.sleep(10);
        }
    }
}
