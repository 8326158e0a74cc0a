package io.peerlink.transport.mqtt;

import io.peerlink.testkit.Mosquitto;
import io.peerlink.Endpoint;
import io.peerlink.spi.SendCallback;
import io.peerlink.spi.Transport;
import io.peerlink.spi.TransportConfig;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Unit tests of {@link MqttTransport}'s connection handling with a scripted broker client: the
 * cases Mosquitto 2.0 cannot be made to produce (a DISCONNECT with "Session taken over", a
 * reconnect refused for bad credentials, PUBACK error codes at will) and the exactly-once rule of
 * send callbacks. Interoperability is proven against Mosquitto in the other tests.
 */
class MqttTransportReconnectTest {

    private final Scripted broker = new Scripted();
    private final List<Transport> transports = new ArrayList<>();

    @AfterEach
    void destroy() {
        transports.forEach(Transport::destroy);
    }

    private MqttTransport transport(int maxInFlight) {
        TransportConfig config = TransportConfig.bind(Endpoint.parse("mqtt://broker.test:1883/me"))
                .set(MqttOptions.MAX_IN_FLIGHT, maxInFlight)
                .set(MqttOptions.RECONNECT_MIN_DELAY, Duration.ofMillis(5))
                .set(MqttOptions.RECONNECT_MAX_DELAY, Duration.ofMillis(50))
                .build();
        MqttTransport t = new MqttTransport(MqttTransportProvider.parse(config, "mqtt", false), broker);
        transports.add(t);
        return t;
    }

    private static final Endpoint PEER = Endpoint.parse("mqtt://broker.test:1883/peer");

    @Test
    void sessionTakenOverStopsTheTransportWithTheReasonAndDoesNotReconnect() throws Exception {
        MqttTransport t = transport(8);
        Received handler = new Received();
        t.start(handler);
        Fake client = broker.clients.take();
        client.events.connectionLost(client, new MqttServerDisconnectException("broker.test:1883", "me", ReasonCodes.SESSION_TAKEN_OVER));
        Throwable failure = handler.failures.poll(5, TimeUnit.SECONDS);
        MqttServerDisconnectException e = assertInstanceOf(MqttServerDisconnectException.class, failure);
        assertEquals("broker broker.test:1883 disconnected client 'me': 0x8E Session taken over (MQTT 5)", e.getMessage());
        assertEquals(Transport.State.STOPPED, t.state());
        assertNull(broker.clients.poll(200, TimeUnit.MILLISECONDS), "no reconnect after a takeover");
        assertTrue(client.closed);
    }

    @Test
    void anOrdinaryLossFailsWhatWasInFlightAndReconnects() throws Exception {
        MqttTransport t = transport(8);
        Received handler = new Received();
        t.start(handler);
        Fake first = broker.clients.take();
        Outcomes outcomes = new Outcomes();
        assertTrue(t.send(PEER, ByteBuffer.wrap(new byte[] {1}), outcomes));
        first.events.connectionLost(first, new IOException("network down"));
        Object outcome = outcomes.queue.poll(5, TimeUnit.SECONDS);
        IOException lost = assertInstanceOf(IOException.class, outcome);
        assertEquals("the connection to MQTT broker broker.test:1883 was lost before the PUBACK", lost.getMessage());
        Fake second = broker.clients.poll(5, TimeUnit.SECONDS);
        assertNotNull(second, "reconnected");
        assertTrue(first.closed);
        // Paho's own late failure report for the same publish changes nothing: exactly once.
        first.outcomes.get(0).failed(new IOException("late"));
        first.outcomes.get(0).acknowledged(0);
        assertNull(outcomes.queue.poll(100, TimeUnit.MILLISECONDS));
        waitConnected(t);
        assertTrue(t.send(PEER, ByteBuffer.wrap(new byte[] {2}), outcomes));
        second.outcomes.get(0).acknowledged(0);
        assertEquals("completed", outcomes.queue.poll(5, TimeUnit.SECONDS));
        assertTrue(handler.failures.isEmpty());
        assertEquals(Transport.State.STARTED, t.state());
    }

    @Test
    void aReconnectRefusedForBadCredentialsStopsTheTransport() throws Exception {
        MqttTransport t = transport(8);
        Received handler = new Received();
        t.start(handler);
        Fake first = broker.clients.take();
        broker.refusals.add(new MqttConnectionRefusedException("broker.test:1883", "me", 0x86, MqttVersion.MQTT_5));
        first.events.connectionLost(first, new IOException("network down"));
        MqttConnectionRefusedException e = assertInstanceOf(MqttConnectionRefusedException.class, handler.failures.poll(5, TimeUnit.SECONDS));
        assertEquals(0x86, e.reasonCode());
        assertEquals(Transport.State.STOPPED, t.state());
    }

    @Test
    void aTransientRefusalIsRetried() throws Exception {
        MqttTransport t = transport(8);
        Received handler = new Received();
        t.start(handler);
        Fake first = broker.clients.take();
        broker.refusals.add(new MqttConnectionRefusedException("broker.test:1883", "me", 0x88, MqttVersion.MQTT_5)); // Server unavailable
        broker.refusals.add(new IOException("connection refused"));
        first.events.connectionLost(first, new IOException("network down"));
        waitConnected(t);
        assertTrue(handler.failures.isEmpty());
        assertEquals(4, t.connectAttempts(), "start, two failed attempts, success");
    }

    @Test
    void theWindowBoundsUnacknowledgedSendsAndPubackCodesDecideTheOutcome() throws Exception {
        MqttTransport t = transport(2);
        t.start(new Received());
        Fake client = broker.clients.take();
        Outcomes outcomes = new Outcomes();
        assertTrue(t.send(PEER, ByteBuffer.wrap(new byte[] {1}), outcomes));
        assertTrue(t.send(PEER, ByteBuffer.wrap(new byte[] {2}), outcomes));
        assertFalse(t.send(PEER, ByteBuffer.wrap(new byte[] {3}), outcomes), "window of 2 is full");
        assertTrue(t.toString().endsWith(", connected, 2 of 2 in flight, 1 sends refused, the last because "
                + MqttOptions.MAX_IN_FLIGHT.name() + " = 2 datagrams await their PUBACK]"), t::toString);
        assertEquals(2, client.outcomes.size());
        client.outcomes.get(0).acknowledged(0x97); // Quota exceeded
        MqttPublishRefusedException refused = assertInstanceOf(MqttPublishRefusedException.class, outcomes.queue.poll(5, TimeUnit.SECONDS));
        assertEquals("broker broker.test:1883 refused the datagram published on 'peerlink/in/peer/me': 0x97 Quota exceeded (MQTT 5)",
                refused.getMessage());
        assertTrue(t.send(PEER, ByteBuffer.wrap(new byte[] {3}), outcomes), "a settled send frees its slot");
        client.outcomes.get(1).acknowledged(0x10); // No matching subscribers: still a success code
        assertEquals("completed", outcomes.queue.poll(5, TimeUnit.SECONDS));
        client.publishAccepts = false; // Paho's own window full
        client.outcomes.get(2).acknowledged(0);
        assertEquals("completed", outcomes.queue.poll(5, TimeUnit.SECONDS));
        assertFalse(t.send(PEER, ByteBuffer.wrap(new byte[] {4}), outcomes), "Paho refused: false, and no callback");
        assertTrue(t.toString().endsWith(", 2 sends refused, the last because Paho did not take it: the test's fake refuses publishes]"),
                t::toString);
        assertNull(outcomes.queue.poll(100, TimeUnit.MILLISECONDS));
    }

    @Test
    void stopFailsWhatIsStillInFlight() throws Exception {
        MqttTransport t = transport(8);
        t.start(new Received());
        Fake client = broker.clients.take();
        Outcomes outcomes = new Outcomes();
        assertTrue(t.send(PEER, ByteBuffer.wrap(new byte[] {1}), outcomes));
        t.stop();
        IOException e = assertInstanceOf(IOException.class, outcomes.queue.poll(5, TimeUnit.SECONDS));
        assertTrue(e.getMessage().contains("was stopped before the broker acknowledged"), e.getMessage());
        assertTrue(client.closed);
        client.outcomes.get(0).acknowledged(0);
        assertNull(outcomes.queue.poll(100, TimeUnit.MILLISECONDS), "exactly one outcome");
    }

    private static void waitConnected(MqttTransport t) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!t.connected()) {
            assertTrue(System.nanoTime() < deadline, "not reconnected");
            Thread.sleep(5);
        }
    }

    /** Records outcomes: "completed" or the failure. */
    private static final class Outcomes implements SendCallback {
        final BlockingQueue<Object> queue = new LinkedBlockingQueue<>();

        @Override
        public void completed() {
            queue.add("completed");
        }

        @Override
        public void failed(Throwable cause) {
            queue.add(cause);
        }
    }

    /** A broker client whose connects succeed unless a refusal is queued. */
    private static final class Scripted implements MqttTransport.ClientFactory {
        final BlockingQueue<Fake> clients = new LinkedBlockingQueue<>();
        final Deque<IOException> refusals = new ArrayDeque<>();

        @Override
        public BrokerClient create(BrokerClient.Settings settings, BrokerClient.Events events) {
            IOException refusal;
            synchronized (refusals) {
                refusal = refusals.poll();
            }
            Fake f = new Fake(events, refusal);
            if (refusal == null) {
                clients.add(f);
            }
            return f;
        }
    }

    private static final class Fake implements BrokerClient {
        final Events events;
        final IOException refusal;
        final List<Outcome> outcomes = new ArrayList<>();
        volatile boolean closed;
        volatile boolean publishAccepts = true;

        Fake(Events events, IOException refusal) {
            this.events = events;
            this.refusal = refusal;
        }

        @Override
        public void connect() throws IOException {
            if (refusal != null) {
                throw refusal;
            }
        }

        @Override
        public boolean sessionPresent() {
            return true;
        }

        @Override
        public long brokerMaximumPacketSize() {
            return -1;
        }

        @Override
        public String lastRefusal() {
            return publishAccepts ? null : "the test's fake refuses publishes";
        }

        @Override
        public void subscribe(String filter) {
            assertEquals("peerlink/in/me/+", filter);
        }

        @Override
        public synchronized boolean publish(String topic, byte[] payload, Outcome outcome) {
            if (!publishAccepts) {
                return false;
            }
            outcomes.add(outcome);
            return true;
        }

        @Override
        public void close() {
            closed = true;
        }
    }
}
