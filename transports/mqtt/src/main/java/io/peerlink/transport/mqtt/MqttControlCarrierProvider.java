package io.peerlink.transport.mqtt;

import io.peerlink.spi.ControlCarrier;
import io.peerlink.spi.ControlCarrierProvider;
import io.peerlink.spi.TransportConfig;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The device side of the rendezvous over MQTT ({@link MqttRendezvousTopics}): a device built with
 * {@code rendezvous(URI.create("mqtt://broker:1883"))} registers through the broker. The carrier
 * has its own broker connection (client ID {@code <the transport's client ID>-rv}, clean session:
 * a control connection never resumes) with the credentials, TLS and protocol version of the
 * device's MQTT transport to the same broker, if it has one.
 */
public class MqttControlCarrierProvider implements ControlCarrierProvider {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final System.Logger LOG = System.getLogger(MqttControlCarrierProvider.class.getName());
    /** Suffix of the carrier's client ID, so that it never takes over the transport's session. */
    public static final String CLIENT_ID_SUFFIX = "-rv";

    /** Creates the provider; {@link java.util.ServiceLoader} calls this. */
    public MqttControlCarrierProvider() {
    }

    @Override
    public String scheme() {
        return MqttTransportProvider.SCHEME;
    }

    /**
     * @throws IllegalArgumentException if the bind endpoint is not {@code <scheme>://host:port/<deviceTopicId>} or an option is invalid
     */
    @Override
    public CompletionStage<ControlCarrier> open(TransportConfig config, ControlCarrier.Receiver receiver) {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(receiver, "receiver");
        MqttTransport.Config c = MqttTransportProvider.parse(config, scheme(), !MqttTransportProvider.SCHEME.equals(scheme()));
        CompletableFuture<ControlCarrier> result = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                Carrier carrier = new Carrier(c, receiver);
                carrier.connect(result);
            } catch (IOException | RuntimeException e) {
                result.completeExceptionally(e);
            }
        }, "peerlink-mqtt-rv-open");
        t.setDaemon(true);
        t.start();
        return result;
    }

    static BrokerClient.Settings settings(MqttTransport.Config c, String clientId, boolean persistent, int maxInFlight) {
        return settings(c, clientId, persistent, maxInFlight, null, null);
    }

    static BrokerClient.Settings settings(MqttTransport.Config c, String clientId, boolean persistent, int maxInFlight,
                                          String willTopic, byte[] willPayload) {
        String host = c.bind().host().indexOf(':') >= 0 ? "[" + c.bind().host() + "]" : c.bind().host();
        String uri = (c.tls() ? "ssl://" : "tcp://") + host + ":" + c.bind().port();
        String password = c.passwordSource() == MqttPasswordSource.fixed() ? c.password()
                : Objects.requireNonNull(c.passwordSource().password(), "MqttPasswordSource returned null");
        return new BrokerClient.Settings(uri, host + ":" + c.bind().port(), clientId, c.username(), password,
                persistent, persistent ? c.sessionExpirySeconds() : 0, c.keepAliveSeconds(), c.connectTimeout(),
                c.tls() ? c.tlsSettings().socketFactory() : null, c.tlsSettings().hostnameVerification(), maxInFlight,
                256L * 1024, willTopic, willPayload);
    }

    /** One control connection. */
    private static final class Carrier implements ControlCarrier, BrokerClient.Events {
        private final MqttTransport.Config config;
        private final ControlCarrier.Receiver receiver;
        private final String tag = HexFormat.of().formatHex(randomBytes());
        private final String up;
        private final String down;
        private final AtomicBoolean closed = new AtomicBoolean();
        private volatile BrokerClient client;
        private volatile boolean opened;

        Carrier(MqttTransport.Config config, ControlCarrier.Receiver receiver) {
            this.config = config;
            this.receiver = receiver;
            this.up = MqttRendezvousTopics.up(config.selfId());
            this.down = MqttRendezvousTopics.down(config.selfId());
        }

        private static byte[] randomBytes() {
            byte[] b = new byte[8];
            RANDOM.nextBytes(b);
            return b;
        }

        void connect(CompletableFuture<ControlCarrier> result) throws IOException {
            BrokerClient c = MqttTransport.pahoClients(config.version())
                    .create(settings(config, config.clientId() + CLIENT_ID_SUFFIX, false, 64,
                            // The broker ends the session for us if this connection dies without a word.
                            up, MqttRendezvousTopics.utf8(MqttRendezvousTopics.CLOSE + " " + tag)), this);
            client = c;
            try {
                c.connect();
                c.subscribe(down);
            } catch (IOException | RuntimeException e) {
                c.close();
                throw e;
            }
            try {
                // The server's will lands here when its broker connection dies: this session is then gone.
                c.subscribe(MqttRendezvousTopics.SERVER_STATUS);
            } catch (IOException e) {
                LOG.log(System.Logger.Level.INFO, "rendezvous over MQTT: cannot read " + MqttRendezvousTopics.SERVER_STATUS
                        + " (" + e.getMessage() + "); a server that loses its broker connection is noticed by the keepalive only");
            }
            // Complete before "open": the device knows its carrier before the echo and the challenge arrive.
            result.complete(this);
            publish(MqttRendezvousTopics.OPEN + " " + tag).whenComplete((v, e) -> {
                if (e != null) {
                    lost("cannot publish on " + up + ": " + e.getMessage());
                }
            });
        }

        @Override
        public CompletionStage<Void> send(String text) {
            Objects.requireNonNull(text, "text");
            if (closed.get()) {
                return CompletableFuture.failedFuture(new IOException("MQTT control carrier closed"));
            }
            return publish(text);
        }

        private CompletableFuture<Void> publish(String text) {
            CompletableFuture<Void> done = new CompletableFuture<>();
            boolean queued = client.publish(up, MqttRendezvousTopics.utf8(text), new BrokerClient.Outcome() {
                @Override
                public void acknowledged(int reasonCode) {
                    if (reasonCode >= 0x80) {
                        done.completeExceptionally(new MqttPublishRefusedException(config.bind().host() + ":" + config.bind().port(), up, reasonCode));
                    } else {
                        done.complete(null);
                    }
                }

                @Override
                public void failed(Throwable cause) {
                    done.completeExceptionally(cause);
                }
            });
            if (!queued) {
                done.completeExceptionally(new IOException("the MQTT client did not take the message (not connected, or its window is full)"));
            }
            return done;
        }

        @Override
        public void messageArrived(BrokerClient from, String topic, byte[] payload, boolean retained) {
            if (closed.get() || retained) {
                return;
            }
            String text = new String(payload, StandardCharsets.UTF_8);
            if (MqttRendezvousTopics.SERVER_STATUS.equals(topic)) {
                if (MqttRendezvousTopics.OFFLINE.equals(text)) {
                    lost("the rendezvous server lost its connection to the MQTT broker");
                }
                return;
            }
            if (!down.equals(topic)) {
                return;
            }
            if (!opened) {
                opened = text.equals(MqttRendezvousTopics.OPEN + " " + tag);
                return; // before our echo: leftovers of an earlier session
            }
            if (text.startsWith(MqttRendezvousTopics.CLOSE)) {
                lost(text.length() > 6 ? text.substring(6) : "closed");
                return;
            }
            receiver.onText(text);
        }

        @Override
        public void connectionLost(BrokerClient from, Throwable cause) {
            lost("connection to the MQTT broker lost: " + cause);
        }

        private void lost(String why) {
            if (closed.compareAndSet(false, true)) {
                release(false);
                receiver.onClosed(why);
            }
        }

        @Override
        public void close() {
            if (closed.compareAndSet(false, true)) {
                release(true);
            }
        }

        private void release(boolean tellServer) {
            BrokerClient c = client;
            Thread t = new Thread(() -> {
                if (tellServer) {
                    try {
                        // Best effort, bounded: the server's keepalive sweep ends the session anyway.
                        publish(MqttRendezvousTopics.CLOSE + " " + tag).get(1, java.util.concurrent.TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                        // the server will notice the silence
                    }
                }
                c.close();
            }, "peerlink-mqtt-rv-close");
            t.setDaemon(true);
            t.start();
        }
    }
}
