package io.peerlink.transport.mqtt;

import io.peerlink.Endpoint;
import io.peerlink.spi.DatagramHandler;
import io.peerlink.spi.ReceiveContext;
import io.peerlink.spi.SendCallback;
import io.peerlink.spi.Transport;
import io.peerlink.spi.TransportCapabilities;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A {@link Transport} through an MQTT broker: one broker connection per started transport, an
 * inbox topic per device ({@link InboxTopics}), QoS 1 both ways.
 *
 * <p>Threading: Paho's callback thread calls the handler (one connection at a time, and a lock
 * keeps even an old and a new connection from overlapping). {@code send} runs on the caller's
 * thread and only queues the PUBLISH with Paho; a bounded window of un-acknowledged publishes
 * makes it return false instead of queueing without end. One scheduler thread per started
 * transport reconnects, with exponential backoff, after the connection is lost.
 *
 * <p>Delivery: a send completes when the broker's PUBACK arrives. When the connection breaks,
 * the sends still waiting for theirs fail (the broker may or may not have them: QoS 1 is at
 * least once), and each reconnect builds a new Paho client, so nothing is resent behind the
 * caller's back. The persistent session keeps what the broker accepted for an offline device.
 */
final class MqttTransport implements Transport {

    private static final System.Logger LOG = System.getLogger(MqttTransport.class.getName());
    /** PUBLISH bytes besides payload and topic: fixed header (5), packet ID (2), MQTT 5 properties (1) and slack. */
    private static final int PUBLISH_OVERHEAD = 16;

    /** Everything a transport is configured with; validated by the provider. */
    record Config(Endpoint bind, String selfId, boolean tls, MqttVersion version, String clientId, String username,
                  String password, String topicPrefix, int maxDatagramSize, int maxInFlight, boolean persistentSession,
                  long sessionExpirySeconds, int keepAliveSeconds, java.time.Duration connectTimeout,
                  java.time.Duration reconnectMinDelay, java.time.Duration reconnectMaxDelay, MqttTls tlsSettings,
                  boolean brokerEnforcesSender, MqttPasswordSource passwordSource) {
    }

    /** Builds a broker client; replaced in unit tests of the reconnect logic only. */
    interface ClientFactory {
        BrokerClient create(BrokerClient.Settings settings, BrokerClient.Events events) throws IOException;
    }

    private final Config config;
    private final Endpoint local;
    private final InboxTopics topics;
    private final String brokerName;
    private final TransportCapabilities capabilities;
    private final ClientFactory clientFactory;

    private final Object lifecycle = new Object();
    private volatile State state = State.CREATED;
    /** Non-null exactly while STARTED. */
    private volatile Running running;

    // Counters of dropped input, for operators (logged) and for the tests.
    private final AtomicLong malformedTopics = new AtomicLong();
    private final AtomicLong oversizedDatagrams = new AtomicLong();
    private final AtomicLong retainedDatagrams = new AtomicLong();
    private final AtomicLong handlerFailures = new AtomicLong();
    private final AtomicLong connectAttempts = new AtomicLong();

    MqttTransport(Config config, ClientFactory clientFactory) {
        this.config = config;
        this.local = config.bind();
        this.topics = new InboxTopics(config.topicPrefix(), config.selfId());
        String host = config.bind().host();
        this.brokerName = (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + config.bind().port();
        this.capabilities = TransportCapabilities.builder()
                .maxDatagramSize(config.maxDatagramSize())
                // Not reliable: a broken connection fails what was in flight, a broker drops what
                // exceeds its queue limit, a session can expire. Not ordered: a failed send is
                // retried after later ones. The core's ARQ covers both.
                .reliable(false)
                .ordered(false)
                .sendCompletion(true)
                .peerAuthentication(config.brokerEnforcesSender())
                .relayed(true)
                .build();
        this.clientFactory = clientFactory;
    }

    static ClientFactory pahoClients(MqttVersion version) {
        return version == MqttVersion.MQTT_5 ? Paho5Client::new : Paho3Client::new;
    }

    // ------------------------------------------------------------------ lifecycle

    /**
     * Connects, resumes or creates the session, and subscribes to the inbox before returning.
     *
     * @throws MqttConnectionRefusedException if the broker refused the connection (its reason is in the message)
     * @throws IOException if the broker cannot be reached, does not answer within the connect timeout,
     *         refuses the subscription, or accepts packets smaller than the configured datagram size
     */
    @Override
    public void start(DatagramHandler handler) throws IOException {
        Objects.requireNonNull(handler, "handler");
        synchronized (lifecycle) {
            if (state == State.STARTED || state == State.DESTROYED) {
                throw new IllegalStateException("cannot start an MQTT transport that is " + state);
            }
            Running r = new Running(handler);
            try {
                r.connect();
            } catch (IOException | RuntimeException e) {
                r.shutdown(new IOException("start failed"));
                throw e;
            }
            running = r;
            state = State.STARTED;
        }
    }

    @Override
    public void stop() {
        Running r;
        synchronized (lifecycle) {
            if (state != State.STARTED) {
                return;
            }
            r = running;
            running = null;
            state = State.STOPPED;
        }
        r.shutdown(new IOException("MQTT transport " + local + " was stopped before the broker acknowledged the datagram"));
    }

    @Override
    public void destroy() {
        Running r;
        synchronized (lifecycle) {
            if (state == State.DESTROYED) {
                return;
            }
            r = running;
            running = null;
            state = State.DESTROYED;
        }
        if (r != null) {
            r.shutdown(new IOException("MQTT transport " + local + " was destroyed before the broker acknowledged the datagram"));
        }
    }

    @Override
    public State state() {
        return state;
    }

    @Override
    public Endpoint localEndpoint() {
        if (running == null) {
            throw new IllegalStateException("MQTT transport has no local endpoint while " + state);
        }
        return local;
    }

    @Override
    public TransportCapabilities capabilities() {
        return capabilities;
    }

    @Override
    public boolean supports(Endpoint remote) {
        Objects.requireNonNull(remote, "remote");
        return recipientOf(remote) != null;
    }

    /** @return the recipient's device topic ID, or null if this transport cannot reach the endpoint */
    private String recipientOf(Endpoint remote) {
        if (!local.scheme().equals(remote.scheme()) || remote.port() != local.port()
                || !remote.host().toLowerCase(Locale.ROOT).equals(local.host().toLowerCase(Locale.ROOT))) {
            return null;
        }
        String path = remote.path();
        if (path.length() < 2 || path.charAt(0) != '/') {
            return null;
        }
        String id = path.substring(1);
        return InboxTopics.idProblem(id) == null ? id : null;
    }

    // ------------------------------------------------------------------ send

    private static final SendCallback IGNORE = new SendCallback() {
        @Override
        public void completed() {
        }

        @Override
        public void failed(Throwable cause) {
        }
    };

    @Override
    public boolean send(Endpoint remote, ByteBuffer datagram) {
        return send(remote, datagram, IGNORE);
    }

    /**
     * Publishes at QoS 1; the callback completes on the broker's PUBACK, and fails with
     * {@link MqttPublishRefusedException} on an MQTT 5 PUBACK error code, or with an
     * {@link IOException} when the connection breaks or the transport stops first.
     *
     * @return false if the window of un-acknowledged datagrams is full or the broker connection
     *         is down (reconnecting); the datagram was not sent
     */
    @Override
    public boolean send(Endpoint remote, ByteBuffer datagram, SendCallback callback) {
        Objects.requireNonNull(remote, "remote");
        Objects.requireNonNull(datagram, "datagram");
        Objects.requireNonNull(callback, "callback");
        Running r = running;
        if (r == null) {
            throw new IllegalStateException("cannot send on an MQTT transport that is " + state);
        }
        if (datagram.remaining() > config.maxDatagramSize()) {
            throw new IllegalArgumentException("datagram of " + datagram.remaining() + " bytes exceeds "
                    + MqttOptions.MAX_DATAGRAM_SIZE.name() + " = " + config.maxDatagramSize());
        }
        String recipient = recipientOf(remote);
        if (recipient == null) {
            throw new IllegalArgumentException("MQTT transport " + local + " cannot send to " + remote + " (needs "
                    + local.scheme() + "://" + brokerName + "/<device topic ID of 1.." + InboxTopics.MAX_ID_LENGTH
                    + " characters [A-Za-z0-9_-]>: the same broker, written the same way)");
        }
        return r.publish(topics.topicTo(recipient), datagram, callback);
    }

    @Override
    public String toString() {
        Running r = running;
        if (r == null) {
            return "MqttTransport[" + local + ", " + config.version() + ", " + state + "]";
        }
        Connection c = r.current;
        String refusals = r.lastRefusal == null ? ""
                : ", " + r.refusedSends.get() + " sends refused, the last because " + r.lastRefusal;
        return "MqttTransport[" + local + ", " + config.version() + ", " + state + ", "
                + (c == null || c.lost ? "reconnecting" : "connected") + ", "
                + (config.maxInFlight() - r.window.availablePermits()) + " of " + config.maxInFlight() + " in flight" + refusals + "]";
    }

    // ------------------------------------------------------------------ for tests and operators

    long malformedTopics() {
        return malformedTopics.get();
    }

    long oversizedDatagrams() {
        return oversizedDatagrams.get();
    }

    long retainedDatagrams() {
        return retainedDatagrams.get();
    }

    long connectAttempts() {
        return connectAttempts.get();
    }

    /** @return whether a broker connection is up right now (false while reconnecting) */
    boolean connected() {
        Running r = running;
        return r != null && r.current != null;
    }

    private BrokerClient.Settings settings() {
        String host = local.host().indexOf(':') >= 0 ? "[" + local.host() + "]" : local.host();
        String uri = (config.tls() ? "ssl://" : "tcp://") + host + ":" + local.port();
        String password = config.passwordSource() == MqttPasswordSource.fixed() ? config.password()
                : Objects.requireNonNull(config.passwordSource().password(), "MqttPasswordSource returned null");
        return new BrokerClient.Settings(uri, brokerName, config.clientId(), config.username(), password,
                config.persistentSession(), config.sessionExpirySeconds(), config.keepAliveSeconds(), config.connectTimeout(),
                config.tls() ? config.tlsSettings().socketFactory() : null,
                config.tlsSettings().hostnameVerification(), config.maxInFlight(),
                (long) config.maxDatagramSize() + topics.maxTopicBytes() + PUBLISH_OVERHEAD);
    }

    private static void warnOnce(AtomicLong counter, String message) {
        long n = counter.incrementAndGet();
        LOG.log(n == 1 ? System.Logger.Level.WARNING : System.Logger.Level.DEBUG, message + " (#" + n + "; further ones at DEBUG)");
    }

    // ------------------------------------------------------------------ one STARTED period

    /** One broker connection; replaced on every reconnect. */
    private static final class Connection {
        final BrokerClient client;
        final long connectedAtNanos = System.nanoTime();
        final Set<InFlight> inFlight = ConcurrentHashMap.newKeySet();
        volatile boolean lost;

        Connection(BrokerClient client) {
            this.client = client;
        }
    }

    /** A publish waiting for its PUBACK; settles exactly once, whoever gets there first. */
    private final class InFlight implements BrokerClient.Outcome {
        private final Running owner;
        private final Connection connection;
        private final String topic;
        private final SendCallback callback;
        private final AtomicBoolean settled = new AtomicBoolean();

        InFlight(Running owner, Connection connection, String topic, SendCallback callback) {
            this.owner = owner;
            this.connection = connection;
            this.topic = topic;
            this.callback = callback;
        }

        /** @return true if this call settled it (without telling the callback) */
        boolean withdraw() {
            if (!settled.compareAndSet(false, true)) {
                return false;
            }
            release();
            return true;
        }

        @Override
        public void acknowledged(int reasonCode) {
            if (!settled.compareAndSet(false, true)) {
                return;
            }
            release();
            if (reasonCode >= 0x80) {
                notifyFailed(new MqttPublishRefusedException(brokerName, topic, reasonCode));
            } else {
                try {
                    callback.completed();
                } catch (RuntimeException e) {
                    LOG.log(System.Logger.Level.WARNING, "SendCallback.completed threw", e);
                }
            }
        }

        @Override
        public void failed(Throwable cause) {
            if (!settled.compareAndSet(false, true)) {
                return;
            }
            release();
            notifyFailed(cause instanceof IOException ? cause
                    : new IOException("the datagram on '" + topic + "' failed before the PUBACK of broker " + brokerName + ": "
                            + cause.getMessage(), cause));
        }

        private void release() {
            connection.inFlight.remove(this);
            owner.window.release();
        }

        private void notifyFailed(Throwable cause) {
            try {
                callback.failed(cause);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "SendCallback.failed threw", e);
            }
        }
    }

    private record Source(Endpoint endpoint, ReceiveContext context) {
    }

    private final class Running implements BrokerClient.Events {
        final DatagramHandler handler;
        final Semaphore window = new Semaphore(config.maxInFlight());
        final AtomicLong refusedSends = new AtomicLong();
        volatile String lastRefusal;
        final ReentrantLock deliveryLock = new ReentrantLock();
        final ScheduledExecutorService scheduler;
        final Map<String, Source> sources = new ConcurrentHashMap<>();
        /** Guards {@link #current} against {@link #closing}. */
        final Object connectionLock = new Object();
        volatile boolean closing;
        /** Null while (re)connecting. */
        volatile Connection current;
        long nextDelayNanos = config.reconnectMinDelay().toNanos();
        /** The reconnect thread, which must not wait for itself in {@link #shutdown}. */
        volatile Thread schedulerThread;

        Running(DatagramHandler handler) {
            this.handler = handler;
            this.scheduler = Executors.newSingleThreadScheduledExecutor(task -> {
                Thread t = new Thread(task, "peerlink-mqtt-" + config.clientId());
                t.setDaemon(true);
                schedulerThread = t;
                return t;
            });
        }

        /** Connects and subscribes; on success the connection becomes {@link #current}. */
        void connect() throws IOException {
            connectAttempts.incrementAndGet();
            BrokerClient client = clientFactory.create(settings(), this);
            try {
                client.connect();
                long brokerMax = client.brokerMaximumPacketSize();
                long needed = (long) config.maxDatagramSize() + topics.maxTopicBytes() + PUBLISH_OVERHEAD;
                if (brokerMax > 0 && brokerMax < needed) {
                    throw new IOException("broker " + brokerName + " accepts packets of at most " + brokerMax + " bytes, but "
                            + MqttOptions.MAX_DATAGRAM_SIZE.name() + " = " + config.maxDatagramSize() + " needs " + needed
                            + " with the topic: lower " + MqttOptions.MAX_DATAGRAM_SIZE.name() + " to at most "
                            + (brokerMax - topics.maxTopicBytes() - PUBLISH_OVERHEAD) + " or raise the broker's limit");
                }
                // Subscribing again on a resumed session is harmless, and needed when the broker lost it.
                client.subscribe(topics.inboxFilter());
            } catch (IOException | RuntimeException e) {
                client.close();
                throw e;
            }
            synchronized (connectionLock) {
                if (!closing) {
                    current = new Connection(client);
                    return;
                }
            }
            client.close();
        }

        boolean publish(String topic, ByteBuffer datagram, SendCallback callback) {
            Connection c = current;
            if (c == null || c.lost) {
                return refused("the broker connection is down (reconnecting)");
            }
            if (!window.tryAcquire()) {
                return refused(MqttOptions.MAX_IN_FLIGHT.name() + " = " + config.maxInFlight() + " datagrams await their PUBACK");
            }
            byte[] payload = new byte[datagram.remaining()];
            datagram.get(payload);
            InFlight f = new InFlight(this, c, topic, callback);
            c.inFlight.add(f);
            boolean queued = !c.lost && c.client.publish(topic, payload, f);
            if (!queued && f.withdraw()) {
                return refused(c.lost ? "the broker connection was lost" : "Paho did not take it: " + c.client.lastRefusal());
            }
            // Queued, or the connection broke meanwhile and already failed f: the callback has its outcome.
            return true;
        }

        /** Remembers why a send returned false, for {@link MqttTransport#toString()}; always false. */
        private boolean refused(String why) {
            refusedSends.incrementAndGet();
            lastRefusal = why;
            return false;
        }

        // -------------------------------------------------------------- receive

        @Override
        public void messageArrived(BrokerClient from, String topic, byte[] payload, boolean retained) {
            if (closing) {
                return;
            }
            String sender;
            try {
                sender = topics.senderOf(topic);
            } catch (MalformedTopicException e) {
                warnOnce(malformedTopics, "MQTT transport " + local + " dropped a datagram: " + e.getMessage());
                return;
            }
            if (retained) {
                // A retained message is replayed to every new subscription: a stale datagram, not a live one.
                warnOnce(retainedDatagrams, "MQTT transport " + local + " dropped a retained message on '"
                        + InboxTopics.abbreviate(topic) + "' (datagrams are never retained; clear it with an empty retained publish)");
                return;
            }
            if (payload.length > config.maxDatagramSize()) {
                warnOnce(oversizedDatagrams, "MQTT transport " + local + " dropped a datagram of " + payload.length + " bytes from '"
                        + sender + "': larger than " + MqttOptions.MAX_DATAGRAM_SIZE.name() + " = " + config.maxDatagramSize());
                return;
            }
            Source source = sources.get(sender);
            if (source == null) {
                source = new Source(new Endpoint(local.scheme(), local.host(), local.port(), "/" + sender),
                        config.brokerEnforcesSender() ? ReceiveContext.builder().authenticatedPeer(sender).build() : ReceiveContext.NONE);
                if (sources.size() >= 4096) {
                    sources.clear(); // a bound, not an LRU: many senders only cost re-creating entries
                }
                sources.put(sender, source);
            }
            deliveryLock.lock();
            try {
                if (closing) {
                    return;
                }
                handler.onDatagram(source.endpoint(), ByteBuffer.wrap(payload), source.context());
            } catch (Throwable t) {
                if (t instanceof VirtualMachineError vme) {
                    throw vme;
                }
                // A handler bug must neither stop the transport nor reach Paho, which would drop the connection.
                long n = handlerFailures.incrementAndGet();
                LOG.log(n == 1 ? System.Logger.Level.WARNING : System.Logger.Level.DEBUG,
                        "DatagramHandler threw on a datagram from " + source.endpoint() + " (failure #" + n + ")", t);
            } finally {
                deliveryLock.unlock();
            }
        }

        // -------------------------------------------------------------- connection loss and reconnect

        @Override
        public void connectionLost(BrokerClient from, Throwable cause) {
            Connection c;
            synchronized (connectionLock) {
                c = current;
                if (closing || c == null || c.client != from) {
                    return; // our own disconnect, or an old connection
                }
                current = null;
            }
            failInFlight(c, new IOException("the connection to MQTT broker " + brokerName + " was lost before the PUBACK", cause));
            long upNanos = System.nanoTime() - c.connectedAtNanos;
            try {
                scheduler.execute(() -> {
                    c.client.close(); // not on Paho's thread: closing waits for it
                    afterLoss(cause, upNanos);
                });
            } catch (java.util.concurrent.RejectedExecutionException e) {
                // stopped meanwhile
            }
        }

        private void afterLoss(Throwable cause, long upNanos) {
            if (cause instanceof MqttServerDisconnectException d && ReasonCodes.permanentDisconnect(d.reasonCode())) {
                failed(d);
                return;
            }
            LOG.log(System.Logger.Level.INFO, "MQTT transport " + local + " lost its broker connection (" + cause + "); reconnecting");
            // Only a connection that outlived two maximum delays resets the backoff: two clients
            // taking over each other's session live about one delay each and stay slowed down.
            if (upNanos >= 2 * config.reconnectMaxDelay().toNanos()) {
                nextDelayNanos = config.reconnectMinDelay().toNanos();
            }
            scheduleReconnect();
        }

        private void scheduleReconnect() {
            long delay = nextDelayNanos;
            nextDelayNanos = Math.min(config.reconnectMaxDelay().toNanos(), delay * 2);
            try {
                scheduler.schedule(this::reconnect, delay, TimeUnit.NANOSECONDS);
            } catch (java.util.concurrent.RejectedExecutionException e) {
                // stopped meanwhile
            }
        }

        private void reconnect() {
            if (closing) {
                return;
            }
            try {
                connect();
                LOG.log(System.Logger.Level.INFO, "MQTT transport " + local + " reconnected to " + brokerName);
            } catch (MqttConnectionRefusedException e) {
                if (e.permanent()) {
                    failed(e);
                } else {
                    scheduleReconnect();
                }
            } catch (IOException | RuntimeException e) {
                LOG.log(System.Logger.Level.DEBUG, "MQTT reconnect to " + brokerName + " failed", e);
                scheduleReconnect();
            }
        }

        /** Reconnecting cannot help: STOPPED on our own, then tell the handler. */
        private void failed(Throwable cause) {
            boolean reported = false;
            synchronized (lifecycle) {
                if (running == this && state == State.STARTED) {
                    running = null;
                    state = State.STOPPED;
                    reported = true;
                }
            }
            if (reported) {
                LOG.log(System.Logger.Level.WARNING, "MQTT transport " + local + " failed and stopped", cause);
                shutdown(new IOException("MQTT transport " + local + " failed", cause));
                handler.onTransportFailure(cause);
            }
        }

        private void failInFlight(Connection c, IOException cause) {
            c.lost = true;
            for (InFlight f : c.inFlight) {
                f.failed(cause);
            }
        }

        /** Ends this STARTED period: no handler call after it returns (unless called from the handler). */
        void shutdown(IOException inFlightCause) {
            Connection c;
            synchronized (connectionLock) {
                closing = true;
                c = current;
                current = null;
            }
            boolean onHandlerThread = deliveryLock.isHeldByCurrentThread();
            if (!onHandlerThread) {
                deliveryLock.lock(); // waits for a handler call in progress
                deliveryLock.unlock();
            }
            scheduler.shutdownNow();
            if (Thread.currentThread() != schedulerThread) {
                try {
                    scheduler.awaitTermination(config.connectTimeout().toMillis() + 2_000, TimeUnit.MILLISECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            if (c != null) {
                failInFlight(c, inFlightCause);
                if (onHandlerThread) {
                    // Paho's disconnect waits for its callback thread, which is this one.
                    Thread closer = new Thread(c.client::close, "peerlink-mqtt-close");
                    closer.setDaemon(true);
                    closer.start();
                } else {
                    c.client.close();
                }
            }
        }
    }
}
