package io.peerlink.core.internal.device;

import io.peerlink.DeviceId;
import io.peerlink.Endpoint;
import io.peerlink.PeerLinkException;
import io.peerlink.spi.ControlCarrier;
import io.peerlink.spi.ControlCarrierProvider;
import io.peerlink.spi.TransportConfig;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;

/**
 * Rendezvous control carriers other than the WebSocket ({@link ControlCarrierProvider}, found with
 * {@link ServiceLoader}), e.g. MQTT topics through a broker for a device that reaches only the broker.
 */
final class ControlCarriers {
    private ControlCarriers() {
    }

    /** @return the provider serving {@code scheme}, or null */
    static ControlCarrierProvider find(String scheme) {
        for (ControlCarrierProvider p : all()) {
            if (p.scheme().equals(scheme)) {
                return p;
            }
        }
        return null;
    }

    /** @return the schemes served, for error messages */
    static List<String> schemes() {
        return all().stream().map(ControlCarrierProvider::scheme).toList();
    }

    private static List<ControlCarrierProvider> all() {
        List<ControlCarrierProvider> found = new ArrayList<>();
        try {
            for (ControlCarrierProvider p : ServiceLoader.load(ControlCarrierProvider.class, ControlCarriers.class.getClassLoader())) {
                found.add(p);
            }
        } catch (ServiceConfigurationError e) {
            throw new PeerLinkException("a PeerLink control carrier provider could not be loaded: " + e.getMessage(), e);
        }
        return found;
    }

    /**
     * @return what opens one control connection for the builder's rendezvous URI, or null for ws/wss.
     *         The carrier's bind endpoint is {@code <scheme>://<host>:<port>/<device ID>}; its options are
     *         those of the device's transport bound to the same scheme, host and port (its broker
     *         credentials and TLS), if there is one
     * @throws PeerLinkException if the options do not convert
     */
    static Function<ControlCarrier.Receiver, CompletionStage<ControlCarrier>> opener(DeviceBuilderImpl b, DeviceId id) {
        URI uri = b.rendezvous;
        String scheme = uri.getScheme();
        if ("ws".equals(scheme) || "wss".equals(scheme)) {
            return null;
        }
        ControlCarrierProvider provider = find(scheme);
        if (provider == null) {
            throw new PeerLinkException("no control carrier for " + uri);
        }
        String host = uri.getHost() == null ? "" : uri.getHost();
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        if (host.isEmpty() || uri.getPort() <= 0) {
            throw new PeerLinkException("rendezvous URI " + uri + " must name a host and a port");
        }
        Endpoint bind = new Endpoint(scheme, host, uri.getPort(), "/" + id.value());
        Map<String, ?> options = Map.of();
        for (DeviceBuilderImpl.TransportSpec spec : b.transports) {
            Endpoint t = spec.bind();
            if (t != null && spec.options() != null && t.scheme().equals(scheme) && t.port() == bind.port()
                    && t.host().toLowerCase(Locale.ROOT).equals(host.toLowerCase(Locale.ROOT))) {
                options = spec.options();
                break;
            }
        }
        TransportConfig config;
        try {
            config = options.isEmpty() ? TransportConfig.bind(bind).build()
                    : TransportCatalog.load().config(bind, spec(b, scheme), options);
        } catch (IllegalArgumentException e) {
            throw new PeerLinkException("rendezvous " + uri + ": " + e.getMessage(), e);
        }
        return receiver -> provider.open(config, receiver);
    }

    private static String spec(DeviceBuilderImpl b, String scheme) {
        for (DeviceBuilderImpl.TransportSpec spec : b.transports) {
            if (spec.bind() != null && spec.bind().scheme().equals(scheme)) {
                return spec.provider();
            }
        }
        return null;
    }
}
