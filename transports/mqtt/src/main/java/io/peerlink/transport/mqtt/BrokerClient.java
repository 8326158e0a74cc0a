package io.peerlink.transport.mqtt;

import javax.net.ssl.SSLSocketFactory;
import java.io.IOException;
import java.time.Duration;

/**
 * One connection to the broker, over one of Paho's two clients. The transport makes a new one
 * for every (re)connect, so no Paho state (in-flight tokens, its in-memory persistence) outlives
 * a connection: what was in flight when it broke is reported failed, never half-resent.
 */
interface BrokerClient {

    /**
     * What a connection needs; {@code tls} is null for plain TCP; {@code willTopic} null for no will (else the
     * broker publishes {@code willPayload} there, QoS 1, when the connection ends without DISCONNECT).
     */
    record Settings(String serverUri, String brokerName, String clientId, String username, String password,
                    boolean persistentSession, long sessionExpirySeconds, int keepAliveSeconds, Duration connectTimeout,
                    SSLSocketFactory tls, boolean hostnameVerification, int maxInFlight, long maxIncomingPacketSize,
                    String willTopic, byte[] willPayload) {
        Settings(String serverUri, String brokerName, String clientId, String username, String password,
                 boolean persistentSession, long sessionExpirySeconds, int keepAliveSeconds, Duration connectTimeout,
                 SSLSocketFactory tls, boolean hostnameVerification, int maxInFlight, long maxIncomingPacketSize) {
            this(serverUri, brokerName, clientId, username, password, persistentSession, sessionExpirySeconds, keepAliveSeconds,
                    connectTimeout, tls, hostnameVerification, maxInFlight, maxIncomingPacketSize, null, null);
        }

        /** Never prints the password. */
        @Override
        public String toString() {
            return "Settings[" + serverUri + ", client " + clientId + ", user " + (username.isEmpty() ? "-" : username) + "]";
        }
    }

    /** Called on Paho's threads. */
    interface Events {
        /** A PUBLISH arrived; called on one thread at a time. */
        void messageArrived(BrokerClient from, String topic, byte[] payload, boolean retained);

        /** The connection broke (network, keep-alive, broker DISCONNECT with {@link MqttServerDisconnectException}). */
        void connectionLost(BrokerClient from, Throwable cause);
    }

    /** The outcome of one publish; exactly one call. */
    interface Outcome {
        /** PUBACK arrived; {@code reasonCode} is 0 for MQTT 3.1.1, the PUBACK reason for MQTT 5. */
        void acknowledged(int reasonCode);

        void failed(Throwable cause);
    }

    /**
     * Connects, waiting at most the connect timeout.
     *
     * @throws MqttConnectionRefusedException if the broker answered CONNACK with an error
     * @throws IOException if the broker cannot be reached or does not answer in time
     */
    void connect() throws IOException;

    /** @return whether the broker resumed an existing session */
    boolean sessionPresent();

    /** @return the broker's Maximum Packet Size from CONNACK (MQTT 5), or -1 when it set none */
    long brokerMaximumPacketSize();

    /** Subscribes at QoS 1, waiting at most the connect timeout. */
    void subscribe(String filter) throws IOException;

    /**
     * Publishes at QoS 1 without blocking.
     *
     * @return false if Paho's own window is full or the connection is not up (nothing was sent)
     */
    boolean publish(String topic, byte[] payload, Outcome outcome);

    /** @return why the last {@link #publish} returned false, in Paho's words with its reason code; null if none did */
    String lastRefusal();

    /** Sends DISCONNECT (best effort, bounded wait) and releases every thread and socket; idempotent. */
    void close();
}
