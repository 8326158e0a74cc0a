package io.peerlink.transport.mqtt;

import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttActionListener;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttCallback;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.MqttSubscription;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

/** {@link BrokerClient} over Paho's MQTT 5 client. */
final class Paho5Client implements BrokerClient {

    private static final System.Logger LOG = System.getLogger(Paho5Client.class.getName());

    private final Settings settings;
    private final MqttAsyncClient client;
    private volatile boolean sessionPresent;
    private volatile long brokerMaximumPacketSize = -1;
    private volatile boolean closed;
    private volatile String lastRefusal;

    Paho5Client(Settings settings, Events events) throws IOException {
        this.settings = settings;
        try {
            this.client = new MqttAsyncClient(settings.serverUri(), settings.clientId(), new MemoryPersistence());
        } catch (MqttException e) {
            throw new IOException("cannot create an MQTT 5 client for " + settings.brokerName() + ": " + e.getMessage(), e);
        }
        client.setCallback(new MqttCallback() {
            @Override
            public void disconnected(MqttDisconnectResponse response) {
                Throwable cause = response.getException();
                if (cause == null) {
                    // The broker sent DISCONNECT: its reason code says why.
                    cause = new MqttServerDisconnectException(settings.brokerName(), settings.clientId(), response.getReturnCode());
                }
                events.connectionLost(Paho5Client.this, cause);
            }

            @Override
            public void mqttErrorOccurred(MqttException exception) {
                LOG.log(System.Logger.Level.DEBUG, "Paho reported an MQTT error from " + settings.brokerName(), exception);
            }

            @Override
            public void messageArrived(String topic, MqttMessage message) {
                events.messageArrived(Paho5Client.this, topic, message.getPayload(), message.isRetained());
            }

            @Override
            public void deliveryComplete(IMqttToken token) {
                // outcomes are reported through each publish's own listener
            }

            @Override
            public void connectComplete(boolean reconnect, String serverUri) {
                // connect() waits for its token
            }

            @Override
            public void authPacketArrived(int reasonCode, MqttProperties properties) {
                // no enhanced authentication
            }
        });
    }

    @Override
    public void connect() throws IOException {
        MqttConnectionOptions options = new MqttConnectionOptions();
        options.setCleanStart(!settings.persistentSession());
        options.setSessionExpiryInterval(settings.persistentSession() ? settings.sessionExpirySeconds() : 0L);
        options.setKeepAliveInterval(settings.keepAliveSeconds());
        options.setConnectionTimeout((int) Math.max(1, settings.connectTimeout().toSeconds()));
        options.setAutomaticReconnect(false); // the transport reconnects, with its own backoff
        if (settings.willTopic() != null) {
            MqttMessage will = new MqttMessage(settings.willPayload());
            will.setQos(1);
            options.setWill(settings.willTopic(), will);
        }
        options.setMaximumPacketSize(settings.maxIncomingPacketSize()); // the broker drops bigger ones for us
        options.setReceiveMaximum(Math.min(65_535, Math.max(1, settings.maxInFlight())));
        if (!settings.username().isEmpty()) {
            options.setUserName(settings.username());
        }
        if (!settings.password().isEmpty()) {
            options.setPassword(settings.password().getBytes(StandardCharsets.UTF_8));
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
            MqttProperties properties = token.getResponseProperties();
            if (properties != null && properties.getMaximumPacketSize() != null) {
                brokerMaximumPacketSize = properties.getMaximumPacketSize();
            }
        } catch (MqttException e) {
            close();
            throw translate(e, "connect to");
        }
    }

    private IOException translate(MqttException e, String action) {
        int code = e.getReasonCode();
        if (code >= 0x80 && code <= 0xFF) {
            return new MqttConnectionRefusedException(settings.brokerName(), settings.clientId(), code, MqttVersion.MQTT_5);
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
        return brokerMaximumPacketSize;
    }

    @Override
    public void subscribe(String filter) throws IOException {
        try {
            IMqttToken token = client.subscribe(new MqttSubscription(filter, 1));
            token.waitForCompletion(settings.connectTimeout().toMillis());
            int[] codes = token.getReasonCodes();
            if (codes == null || codes.length != 1 || codes[0] >= 0x80) {
                int code = codes != null && codes.length == 1 ? codes[0] : 0x80;
                throw new IOException("broker " + settings.brokerName() + " refused the subscription to '" + filter
                        + "' of client '" + settings.clientId() + "': SUBACK " + ReasonCodes.describe(MqttVersion.MQTT_5, code)
                        + " (check the broker's ACL)");
            }
        } catch (MqttException e) {
            throw translate(e, "subscribe at");
        }
    }

    @Override
    public boolean publish(String topic, byte[] payload, Outcome outcome) {
        try {
            client.publish(topic, payload, 1, false, null, new MqttActionListener() {
                @Override
                public void onSuccess(IMqttToken token) {
                    int[] codes = token.getReasonCodes();
                    outcome.acknowledged(codes != null && codes.length > 0 ? codes[0] : 0);
                }

                @Override
                public void onFailure(IMqttToken token, Throwable cause) {
                    outcome.failed(cause != null ? cause : new IOException("publish failed"));
                }
            });
            return true;
        } catch (MqttException e) {
            // Window full (the broker's Receive Maximum), not connected, disconnecting: false, retried later.
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
                    client.disconnectForcibly(0, 100, true);
                }
            }
        } catch (MqttException e) {
            LOG.log(System.Logger.Level.DEBUG, "disconnecting from " + settings.brokerName(), e);
        }
        try {
            client.close(true);
        } catch (MqttException e) {
            LOG.log(System.Logger.Level.DEBUG, "closing the Paho client of " + settings.brokerName(), e);
        }
    }
}
