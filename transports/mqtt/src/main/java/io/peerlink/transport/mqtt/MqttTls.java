package io.peerlink.transport.mqtt;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.Collection;
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
     * Trusts exactly the certificates of a PEM file (a private CA, or the broker's self-signed
     * certificate), with host name verification.
     *
     * @param pemFile one or more PEM certificates
     * @return settings that trust them
     * @throws NullPointerException if pemFile is null
     * @throws IllegalArgumentException if the file cannot be read or holds no certificate
     */
    public static MqttTls trustingPem(Path pemFile) {
        Objects.requireNonNull(pemFile, "pemFile");
        try (InputStream in = Files.newInputStream(pemFile)) {
            Collection<? extends Certificate> certificates = CertificateFactory.getInstance("X.509").generateCertificates(in);
            if (certificates.isEmpty()) {
                throw new IllegalArgumentException("no certificate in " + pemFile);
            }
            KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
            trust.load(null, null);
            int i = 0;
            for (Certificate c : certificates) {
                trust.setCertificateEntry("ca-" + i++, c);
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, tmf.getTrustManagers(), null);
            return using(context);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read the CA file " + pemFile + ": " + e, e);
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("no usable PEM certificate in " + pemFile + ": " + e.getMessage(), e);
        }
    }

    /**
     * Reads the text form used when {@link MqttOptions#TLS} is set by name (e.g. through
     * {@code Device.Builder.transport(bind, options)}): {@code system} for {@link #SYSTEM_DEFAULT},
     * or {@code ca=<PEM file>} for {@link #trustingPem(Path)}; either may be followed by
     * {@code ,hostnameVerification=false}.
     *
     * @param text the text form
     * @return the settings
     * @throws IllegalArgumentException if the text has another form or the file is unusable
     */
    public static MqttTls parse(String text) {
        Objects.requireNonNull(text, "text");
        String[] parts = text.split(",", -1);
        MqttTls tls;
        String head = parts[0].strip();
        if (head.equals("system")) {
            tls = SYSTEM_DEFAULT;
        } else if (head.startsWith("ca=") && head.length() > 3) {
            tls = trustingPem(Path.of(head.substring(3)));
        } else {
            throw new IllegalArgumentException("expected 'system' or 'ca=<PEM file>', optionally followed by ',hostnameVerification=false'");
        }
        for (int i = 1; i < parts.length; i++) {
            switch (parts[i].strip()) {
                case "hostnameVerification=false" -> tls = tls.withHostnameVerification(false);
                case "hostnameVerification=true" -> tls = tls.withHostnameVerification(true);
                default -> throw new IllegalArgumentException("unknown TLS setting '" + parts[i].strip()
                        + "'; expected hostnameVerification=true|false");
            }
        }
        return tls;
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
