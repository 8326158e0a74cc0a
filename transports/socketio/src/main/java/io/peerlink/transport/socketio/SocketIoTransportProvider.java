package io.peerlink.transport.socketio;

import io.peerlink.Endpoint;
import io.peerlink.spi.Transport;
import io.peerlink.spi.TransportConfig;
import io.peerlink.spi.TransportProvider;

import java.net.URI;
import java.util.Base64;
import java.util.List;
import java.util.Objects;

/**
 * Creates {@link SocketIoTransport}s for bind endpoints {@code socketio://host:port/<id>} (the
 * relay server and this device's id). Options: {@link #HMAC_SECRET} (required) and
 * {@link #TLS}. Found through {@link java.util.ServiceLoader}.
 */
public final class SocketIoTransportProvider implements TransportProvider {

    /** The device's HMAC-SHA256 secret, base64; required (at least 16 bytes). */
    public static final TransportConfig.Option<String> HMAC_SECRET =
            new TransportConfig.Option<>("socketio.hmacSecret", String.class, "");
    /** Connect with https/wss instead of http/ws. */
    public static final TransportConfig.Option<Boolean> TLS =
            new TransportConfig.Option<>("socketio.tls", Boolean.class, Boolean.FALSE);

    public SocketIoTransportProvider() {
    }

    /** @return {@link #HMAC_SECRET} and {@link #TLS} */
    @Override
    public List<TransportConfig.Option<?>> options() {
        return List.of(HMAC_SECRET, TLS);
    }

    @Override
    public String scheme() {
        return SocketIoTransport.SCHEME;
    }

    @Override
    public Transport create(TransportConfig config) {
        Objects.requireNonNull(config, "config");
        Endpoint bind = config.bindEndpoint();
        if (!SocketIoTransport.SCHEME.equals(bind.scheme()) || bind.host().isEmpty() || bind.port() == 0
                || !bind.path().startsWith("/")) {
            throw new IllegalArgumentException("a socketio bind endpoint is socketio://host:port/<id>, got " + bind);
        }
        byte[] secret;
        try {
            secret = Base64.getDecoder().decode(config.get(HMAC_SECRET));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(HMAC_SECRET.name() + " is not base64", e);
        }
        if (secret.length < 16) {
            throw new IllegalArgumentException(HMAC_SECRET.name() + " must hold at least 16 bytes, got " + secret.length);
        }
        String scheme = config.get(TLS) ? "https" : "http";
        return new SocketIoTransport(URI.create(scheme + "://" + bind.host() + ":" + bind.port()),
                bind.path().substring(1), secret);
    }
}
