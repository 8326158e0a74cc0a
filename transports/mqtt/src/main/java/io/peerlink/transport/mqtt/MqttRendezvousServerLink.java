package io.peerlink.transport.mqtt;

import io.peerlink.spi.TransportConfig;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The server side of the rendezvous over MQTT ({@link MqttRendezvousTopics}): one broker
 * connection subscribed to every device's up-topic, publishing on their down-topics. It parses
 * the carrier's markers and hands the rendezvous server what a WebSocket endpoint would: a
 * session opens, a text message arrives, a session ends. Messages of all devices arrive on one
 * thread, in order. Sends never block: what Paho's in-flight window does not take waits in a
 * bounded backlog, in order. After a lost broker connection every session is ended and the link
 * reconnects (1 s, doubling up to 30 s). The connection carries the will {@code offline} on
 * {@link MqttRendezvousTopics#SERVER_STATUS} (and {@link #close()} publishes it), so the broker tells
 * subscribed devices at once that their sessions are gone; devices that cannot read that topic notice
 * with their keepalive.
 */
public final class MqttRendezvousServerLink implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(MqttRendezvousServerLink.class.getName());
    /** Messages waiting for Paho's window beyond which new ones are dropped (a device's keepalive then recovers). */
    static final int MAX_BACKLOG = 100_000;

    /** What the rendezvous server does with the carrier's events; called on one thread at a time. */
    public interface Handler {
        /**
         * @param deviceTopicId a device asks to open a new session
         * @return false to ignore the request (no echo, no session), e.g. over a rate limit
         */
        default boolean acceptOpen(String deviceTopicId) {
            return true;
        }

        /** @param deviceTopicId a device opened a new session (ending its previous one, if any); its echo is out */
        void onOpen(String deviceTopicId);

        /** @param deviceTopicId the device @param text one rendezvous message it sent */
        void onText(String deviceTopicId, String text);

        /** @param deviceTopicId the device's session ended (it said so, or the broker connection was lost) */
        void onClose(String deviceTopicId);

        /** The broker connection was lost: every session is gone. */
        default void onAllClosed() {
        }
    }

    private final MqttTransport.Config config;
    private final Handler handler;
    private final ScheduledExecutorService scheduler;
    private final ArrayDeque<Object[]> backlog = new ArrayDeque<>();
    /** The tag of each device's current session : a stale {@code close <tag>}, e.g. an old will, is ignored. */
    private final java.util.Map<String, String> tags = new java.util.concurrent.ConcurrentHashMap<>();
    private volatile BrokerClient client;
    private volatile boolean closed;
    private long reconnectDelayMs = 1_000;

    private MqttRendezvousServerLink(MqttTransport.Config config, Handler handler) {
        this.config = config;
        this.handler = handler;
        this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "peerlink-mqtt-rv-server");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Connects and subscribes to {@link MqttRendezvousTopics#allUp()}.
     *
     * @param config bind endpoint {@code mqtt://host:port/<client ID of the server>} (or {@code mqtts}) and
     *        {@link MqttOptions} (user name, password, TLS, protocol version); the broker's ACL must let this
     *        user read {@code peerlink/rv/+/up} and write {@code peerlink/rv/+/down}
     * @param handler the rendezvous server
     * @return the connected link
     * @throws MqttConnectionRefusedException if the broker refused the login
     * @throws IOException if the broker cannot be reached or refuses the subscription
     * @throws IllegalArgumentException if the endpoint or an option is invalid
     */
    public static MqttRendezvousServerLink connect(TransportConfig config, Handler handler) throws IOException {
        Objects.requireNonNull(handler, "handler");
        String scheme = config.bindEndpoint().scheme();
        MqttTransport.Config c = MqttTransportProvider.parse(config, scheme, MqttsTransportProvider.SCHEME.equals(scheme));
        MqttRendezvousServerLink link = new MqttRendezvousServerLink(c, handler);
        try {
            link.connectOnce();
        } catch (IOException | RuntimeException e) {
            link.close();
            throw e;
        }
        return link;
    }

    private void connectOnce() throws IOException {
        BrokerClient c = MqttTransport.pahoClients(config.version()).create(
                MqttControlCarrierProvider.settings(config, config.clientId(), false, 65_535,
                        // When this connection dies, every session dies with it: the broker tells the devices.
                        MqttRendezvousTopics.SERVER_STATUS, MqttRendezvousTopics.utf8(MqttRendezvousTopics.OFFLINE)), new Events());
        try {
            c.connect();
            c.subscribe(MqttRendezvousTopics.allUp());
        } catch (IOException | RuntimeException e) {
            c.close();
            throw e;
        }
        client = c;
        reconnectDelayMs = 1_000;
        LOG.log(System.Logger.Level.INFO, "rendezvous over MQTT: subscribed to " + MqttRendezvousTopics.allUp() + " at " + brokerName());
    }

    private final class Events implements BrokerClient.Events {
        @Override
        public void messageArrived(BrokerClient from, String topic, byte[] payload, boolean retained) {
            if (from != client || retained) {
                return;
            }
            String id = MqttRendezvousTopics.deviceOfUp(topic);
            if (id == null) {
                return;
            }
            String text = new String(payload, StandardCharsets.UTF_8);
            try {
                if (text.startsWith(MqttRendezvousTopics.OPEN + " ") && text.length() <= 64) {
                    if (!handler.acceptOpen(id)) {
                        return;
                    }
                    // Echo first: the device takes what follows on its down-topic as this session's.
                    publish(MqttRendezvousTopics.down(id), text);
                    tags.put(id, text.substring(MqttRendezvousTopics.OPEN.length() + 1));
                    handler.onOpen(id);
                } else if (text.startsWith(MqttRendezvousTopics.CLOSE)) {
                    String tag = text.length() > MqttRendezvousTopics.CLOSE.length() + 1
                            ? text.substring(MqttRendezvousTopics.CLOSE.length() + 1) : "";
                    if (tag.equals(tags.get(id))) {
                        tags.remove(id);
                        handler.onClose(id);
                    }
                } else {
                    handler.onText(id, text);
                }
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "rendezvous handler failed for a message on " + topic, e);
            }
        }

        @Override
        public void connectionLost(BrokerClient from, Throwable cause) {
            if (from != client || closed) {
                return;
            }
            LOG.log(System.Logger.Level.WARNING, "rendezvous over MQTT: lost " + brokerName() + ": " + cause + "; reconnecting");
            client = null;
            synchronized (backlog) {
                backlog.clear();
            }
            tags.clear();
            from.close();
            handler.onAllClosed();
            scheduler.schedule(MqttRendezvousServerLink.this::reconnect, reconnectDelayMs, TimeUnit.MILLISECONDS);
        }
    }

    private void reconnect() {
        if (closed) {
            return;
        }
        try {
            connectOnce();
        } catch (IOException | RuntimeException e) {
            reconnectDelayMs = Math.min(30_000, reconnectDelayMs * 2);
            LOG.log(System.Logger.Level.DEBUG, "rendezvous over MQTT: reconnect failed: " + e);
            scheduler.schedule(this::reconnect, reconnectDelayMs, TimeUnit.MILLISECONDS);
        }
    }

    /**
     * Queues one message for a device's down-topic; never blocks.
     *
     * @param deviceTopicId the device
     * @param text a JSON rendezvous message
     * @return false if it was dropped (no broker connection, or the backlog is full)
     */
    public boolean send(String deviceTopicId, String text) {
        return publish(MqttRendezvousTopics.down(deviceTopicId), text);
    }

    /**
     * Tells a device its session ended ({@code close <code> <reason>} on its down-topic).
     *
     * @param deviceTopicId the device
     * @param code WebSocket-style close code
     * @param reason short reason
     */
    public void close(String deviceTopicId, int code, String reason) {
        publish(MqttRendezvousTopics.down(deviceTopicId), MqttRendezvousTopics.CLOSE + " " + code + " " + reason);
    }

    private boolean publish(String topic, String text) {
        BrokerClient c = client;
        if (c == null) {
            return false;
        }
        byte[] bytes = MqttRendezvousTopics.utf8(text);
        synchronized (backlog) {
            if (backlog.isEmpty() && c.publish(topic, bytes, new Drain())) {
                return true;
            }
            if (backlog.size() >= MAX_BACKLOG) {
                return false;
            }
            backlog.add(new Object[] {topic, bytes});
            return true;
        }
    }

    /** Each acknowledgement frees a slot of Paho's window: publish what waits. */
    private final class Drain implements BrokerClient.Outcome {
        @Override
        public void acknowledged(int reasonCode) {
            if (reasonCode >= 0x80) {
                LOG.log(System.Logger.Level.DEBUG, "rendezvous over MQTT: the broker refused a message: "
                        + ReasonCodes.describe(config.version(), reasonCode));
            }
            drain();
        }

        @Override
        public void failed(Throwable cause) {
            drain();
        }
    }

    private void drain() {
        BrokerClient c = client;
        if (c == null) {
            return;
        }
        synchronized (backlog) {
            while (!backlog.isEmpty()) {
                Object[] next = backlog.peek();
                if (!c.publish((String) next[0], (byte[]) next[1], new Drain())) {
                    return;
                }
                backlog.poll();
            }
        }
    }

    /** @return the broker's address, as the rendezvous sees a device's control connection come from it */
    public InetSocketAddress brokerAddress() {
        return new InetSocketAddress(config.bind().host(), config.bind().port());
    }

    private String brokerName() {
        return config.bind().host() + ":" + config.bind().port();
    }

    /**
     * Publishes {@code offline} on {@link MqttRendezvousTopics#SERVER_STATUS} (waiting at most 1 s for the
     * broker's acknowledgement; a DISCONNECT does not fire the will) and disconnects; idempotent.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        BrokerClient c = client;
        client = null;
        if (c != null) {
            CompletableFuture<Void> said = new CompletableFuture<>();
            boolean queued = c.publish(MqttRendezvousTopics.SERVER_STATUS, MqttRendezvousTopics.utf8(MqttRendezvousTopics.OFFLINE),
                    new BrokerClient.Outcome() {
                        @Override
                        public void acknowledged(int reasonCode) {
                            said.complete(null);
                        }

                        @Override
                        public void failed(Throwable cause) {
                            said.complete(null);
                        }
                    });
            if (queued) {
                try {
                    said.get(1, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                    // devices notice with their keepalive
                }
            }
            c.close();
        }
        scheduler.shutdownNow();
    }
}
