package io.peerlink.transport.mqtt;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;
import java.util.Objects;

/**
 * TLS settings of an {@code mqtts} transport, set with {@link MqttOptions#TLS}. Immutable.
 * The broker's certificate is checked against the trust material of the {@link SSLContext} and,
 * unless switched off, its host name against the broker host of the endpoint.
 */
public final class MqttTls {

    /** The JVM's default trust store and host name verification. */
    public static final MqttTls SYSTEM_DEFAULT = new MqttTls(null, true);

    private final SSLContext context;
    private final boolean hostnameVerification;

    private MqttTls(SSLContext context, boolean hostnameVerification) {
        this.context = context;
        this.hostnameVerification = hostnameVerification;
    }

    /**
     * @param context initialised with the trust material for the broker (and a key manager for
     *        client certificates, if the broker asks for one)
     * @return settings that use it, with host name verification
     * @throws NullPointerException if context is null
     */
    public static MqttTls using(SSLContext context) {
        return new MqttTls(Objects.requireNonNull(context, "context"), true);
    }

    /**
     * @param enabled whether the broker's certificate must name the host of the endpoint; only
     *        switch it off for brokers addressed by a name their certificate lacks
     * @return a copy with that setting
     */
    public MqttTls withHostnameVerification(boolean enabled) {
        return new MqttTls(context, enabled);
    }

    /** @return whether the broker's certificate must match the endpoint's host */
    public boolean hostnameVerification() {
        return hostnameVerification;
    }

    SSLSocketFactory socketFactory() {
        return context != null ? context.getSocketFactory() : (SSLSocketFactory) SSLSocketFactory.getDefault();
    }

    @Override
    public String toString() {
        return "MqttTls[" + (context != null ? context.getProtocol() + " context" : "system default")
                + ", hostnameVerification=" + hostnameVerification + "]";
    }
}
