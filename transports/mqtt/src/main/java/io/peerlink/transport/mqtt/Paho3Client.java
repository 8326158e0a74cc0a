package io.peerlink.transport.mqtt;

import org.eclipse.paho.client.mqttv3.IMqttActionListener;
import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.IMqttToken;
import org.eclipse.paho.client.mqttv3.MqttAsyncClient;
import org.eclipse.paho.client.mqttv3.MqttCallback;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;

import java.io.IOException;

/** {@link BrokerClient} over Paho's MQTT 3.1.1 client. */
final class Paho3Client implements BrokerClient {

    private static final System.Logger LOG = System.getLogger(Paho3Client.class.getName());

    private final Settings settings;
    private final Events events;
    private final MqttAsyncClient client;
    /**
     * Paho's receiver, sender and callback run here rather than on threads Paho starts itself.
     * Paho 1.2.5's receiver can run on for a moment after the client closed when the connection
     * was lost on that very thread ({@code ClientState.close} empties its token store underneath
     * it, and the receiver then throws a NullPointerException). On our executor that late throw
     * ends a task of a client that is already closed; on Paho's own thread it escaped as an
     * uncaught exception. Shut down with the client, so no thread outlives it.
     */
    private final java.util.concurrent.ScheduledThreadPoolExecutor executor;
    private volatile boolean sessionPresent;
    private volatile boolean closed;
    private volatile String lastRefusal;

    Paho3Client(Settings settings, Events events) throws IOException {
        this.settings = settings;
        this.events = events;
        java.util.concurrent.atomic.AtomicInteger n = new java.util.concurrent.atomic.AtomicInteger();
        this.executor = new java.util.concurrent.ScheduledThreadPoolExecutor(8, r -> {
            Thread t = new Thread(r, "peerlink-mqtt3-" + settings.clientId() + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        try {
            this.client = new MqttAsyncClient(settings.serverUri(), settings.clientId(), new MemoryPersistence(),
                    new org.eclipse.paho.client.mqttv3.ScheduledExecutorPingSender(executor), executor);
        } catch (MqttException e) {
            executor.shutdownNow();
            throw new IOException("cannot create an MQTT 3.1.1 client for " + settings.brokerName() + ": " + e.getMessage(), e);
        }
        client.setCallback(new MqttCallback() {
            @Override
            public void connectionLost(Throwable cause) {
                events.connectionLost(Paho3Client.this, cause);
            }

            @Override
            public void messageArrived(String topic, MqttMessage message) {
                events.messageArrived(Paho3Client.this, topic, message.getPayload(), message.isRetained());
            }

            @Override
            public void deliveryComplete(IMqttDeliveryToken token) {
                // outcomes are reported through each publish's own listener
            }
        });
    }

    @Override
    public void connect() throws IOException {
        MqttConnectOptions options = new MqttConnectOptions();
        options.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
        options.setCleanSession(!settings.persistentSession());
        options.setKeepAliveInterval(settings.keepAliveSeconds());
        options.setConnectionTimeout((int) Math.max(1, settings.connectTimeout().toSeconds()));
        options.setMaxInflight(settings.maxInFlight());
        options.setAutomaticReconnect(false); // the transport reconnects, with its own backoff
        if (settings.willTopic() != null) {
            options.setWill(settings.willTopic(), settings.willPayload(), 1, false);
        }
        if (!settings.username().isEmpty()) {
            options.setUserName(settings.username());
        }
        if (!settings.password().isEmpty()) {
            options.setPassword(settings.password().toCharArray());
        }
        if (settings.tls() != null) {
            options.setSocketFactory(NoDelaySockets.tls(settings.tls()));
            options.setHttpsHostnameVerificationEnabled(settings.hostnameVerification());
        } else {
            options.setSocketFactory(NoDelaySockets.plain());
        }
        try {
            IMqttToken token = client.connect(options);
            token.waitForCompletion(settings.connectTimeout().toMillis());
            sessionPresent = token.getSessionPresent();
        } catch (MqttException e) {
            close();
            throw translate(e, "connect to");
        }
    }

    private IOException translate(MqttException e, String action) {
        int code = e.getReasonCode();
        if (code >= 1 && code <= 5) {
            return new MqttConnectionRefusedException(settings.brokerName(), settings.clientId(), code, MqttVersion.MQTT_3_1_1);
        }
        return new IOException("cannot " + action + " MQTT broker " + settings.brokerName() + " as '" + settings.clientId() + "': "
                + e.getMessage() + (e.getCause() != null ? " (" + e.getCause() + ")" : ""), e);
    }

    @Override
    public boolean sessionPresent() {
        return sessionPresent;
    }

    @Override
    public long brokerMaximumPacketSize() {
        return -1;
    }

    @Override
    public void subscribe(String filter) throws IOException {
        try {
            IMqttToken token = client.subscribe(filter, 1);
            token.waitForCompletion(settings.connectTimeout().toMillis());
            int[] granted = token.getGrantedQos();
            if (granted == null || granted.length != 1 || granted[0] == 0x80) {
                throw new IOException("broker " + settings.brokerName() + " refused the subscription to '" + filter
                        + "' of client '" + settings.clientId() + "' (SUBACK 0x80: check the broker's ACL)");
            }
        } catch (MqttException e) {
            throw translate(e, "subscribe at");
        }
    }

    @Override
    public boolean publish(String topic, byte[] payload, Outcome outcome) {
        try {
            client.publish(topic, payload, 1, false, null, new IMqttActionListener() {
                @Override
                public void onSuccess(IMqttToken token) {
                    outcome.acknowledged(0);
                }

                @Override
                public void onFailure(IMqttToken token, Throwable cause) {
                    outcome.failed(cause != null ? cause : new IOException("publish failed"));
                }
            });
            return true;
        } catch (MqttException e) {
            // Window full, not connected, disconnecting: the caller sees false and retries later.
            lastRefusal = e.getMessage() + " (Paho reason " + e.getReasonCode() + ")";
            return false;
        }
    }

    @Override
    public String lastRefusal() {
        return lastRefusal;
    }

    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        try {
            if (client.isConnected()) {
                // A plain DISCONNECT completes when the broker closes the socket; Paho's
                // disconnectForcibly would instead always wait out its whole timeout.
                try {
                    client.disconnect(0).waitForCompletion(2_000);
                } catch (MqttException e) {
                    client.disconnectForcibly(0, 100);
                }
            }
        } catch (MqttException e) {
            LOG.log(System.Logger.Level.DEBUG, "disconnecting from " + settings.brokerName(), e);
        }
        try {
            client.close(true);
        } catch (MqttException e) {
            LOG.log(System.Logger.Level.DEBUG, "closing the Paho client of " + settings.brokerName(), e);
        } finally {
            executor.shutdownNow();
        }
    }
}
