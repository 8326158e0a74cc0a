package io.peerlink.core.internal.device;

import io.peerlink.Endpoint;
import io.peerlink.PeerLinkException;
import io.peerlink.spi.Transport;
import io.peerlink.spi.TransportConfig;
import io.peerlink.spi.TransportProvider;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.stream.Collectors;

/**
 * Chooses the {@link TransportProvider} for a bind endpoint by its scheme, with explicit
 * precedence: a provider the application names wins; otherwise exactly one provider may serve the
 * scheme. Two providers for one scheme are an error naming both, so that a transport on the class
 * path never replaces a built-in one without the application saying so.
 */
final class TransportCatalog {
    private final List<TransportProvider> providers;

    private TransportCatalog(List<TransportProvider> providers) {
        this.providers = providers;
    }

    /** @return the providers {@link ServiceLoader} finds for the core's class loader */
    static TransportCatalog load() {
        List<TransportProvider> found = new ArrayList<>();
        try {
            for (TransportProvider p : ServiceLoader.load(TransportProvider.class, TransportCatalog.class.getClassLoader())) {
                found.add(p);
            }
        } catch (ServiceConfigurationError e) {
            throw new PeerLinkException("a PeerLink transport provider could not be loaded: " + e.getMessage(), e);
        }
        return new TransportCatalog(found);
    }

    static TransportCatalog of(List<TransportProvider> providers) {
        return new TransportCatalog(List.copyOf(providers));
    }

    /**
     * @param bind the bind endpoint
     * @param providerName the provider's class name, or null to choose by scheme alone
     * @param options option name to value, mapped onto the provider's declared options
     * @return a transport in state CREATED
     * @throws PeerLinkException if no provider, several providers without a name, or no provider
     *         of that name serve the scheme; if an option is unknown to the provider or its value
     *         does not convert; if the provider refuses the configuration
     */
    Transport create(Endpoint bind, String providerName, Map<String, ?> options) {
        TransportProvider chosen = choose(bind, providerName);
        TransportConfig config;
        try {
            config = TransportOptionMapper.config(bind, chosen, options);
        } catch (IllegalArgumentException e) {
            throw new PeerLinkException("transport " + bind + ": " + e.getMessage(), e);
        }
        try {
            return chosen.create(config);
        } catch (IllegalArgumentException e) {
            throw new PeerLinkException("transport " + chosen.getClass().getName() + " refused " + bind + ": " + e.getMessage(), e);
        }
    }

    /**
     * @param bind a bind endpoint
     * @param providerName the provider's class name, or null to choose by scheme alone
     * @param options option name to value, mapped onto that provider's declared options
     * @return the configuration (for a control carrier that shares the transport's options)
     * @throws PeerLinkException as {@link #create(Endpoint, String, Map)}
     */
    TransportConfig config(Endpoint bind, String providerName, Map<String, ?> options) {
        TransportProvider chosen = choose(bind, providerName);
        try {
            return TransportOptionMapper.config(bind, chosen, options);
        } catch (IllegalArgumentException e) {
            throw new PeerLinkException("transport " + bind + ": " + e.getMessage(), e);
        }
    }

    /**
     * A transport from a configuration the core built itself (a per-link TURN allocation, whose
     * options are the relay module's {@code turn.*}), chosen by the bind endpoint's scheme.
     *
     * @param config the bind endpoint and options
     * @param providerName the provider's class name, or null to choose by scheme alone
     * @return a transport in state CREATED
     * @throws PeerLinkException as {@link #create(Endpoint, String, Map)}
     */
    Transport create(TransportConfig config, String providerName) {
        Endpoint bind = config.bindEndpoint();
        TransportProvider chosen = choose(bind, providerName);
        try {
            return chosen.create(config);
        } catch (IllegalArgumentException e) {
            throw new PeerLinkException("transport " + chosen.getClass().getName() + " refused " + bind + ": " + e.getMessage(), e);
        }
    }

    private TransportProvider choose(Endpoint bind, String providerName) {
        List<TransportProvider> forScheme = providers.stream().filter(p -> p.scheme().equals(bind.scheme())).toList();
        TransportProvider chosen;
        if (providerName != null) {
            chosen = forScheme.stream().filter(p -> p.getClass().getName().equals(providerName)).findFirst()
                    .orElseThrow(() -> new PeerLinkException("no transport provider " + providerName + " for scheme '"
                            + bind.scheme() + "'; found: " + names(forScheme)));
        } else if (forScheme.isEmpty()) {
            throw new PeerLinkException("no transport for scheme '" + bind.scheme() + "' (" + bind + "): add its module, e.g. "
                    + "io.peerlink:peerlink-transport-" + bind.scheme() + ", to the class or module path; providers found: "
                    + names(providers));
        } else if (forScheme.size() > 1) {
            throw new PeerLinkException("several transport providers serve scheme '" + bind.scheme() + "': " + names(forScheme)
                    + "; choose one with Device.Builder.transport(bind, providerClassName)");
        } else {
            chosen = forScheme.get(0);
        }
        return chosen;
    }

    private static String names(List<TransportProvider> ps) {
        return ps.isEmpty() ? "none" : ps.stream().map(p -> p.getClass().getName() + " (" + p.scheme() + ")")
                .collect(Collectors.joining(", "));
    }
}
