package io.peerlink.core.internal.device;

import io.peerlink.ChannelOptions;
import io.peerlink.Device;
import io.peerlink.Endpoint;
import io.peerlink.core.internal.punch.PunchOptions;
import io.peerlink.spi.Transport;

import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Executor;

/** Collects a device's configuration; {@link #build()} validates and starts it. */
final class DeviceBuilderImpl implements Device.Builder {
    Path keyFile;
    boolean ephemeral;
    URI rendezvous;
    io.peerlink.protocol.rendezvous.ServerPin rendezvousPin;
    InetSocketAddress rendezvousProxy;
    boolean rendezvousProxySocks;
    String rendezvousProxyUser;
    char[] rendezvousProxyPassword;
    List<java.security.cert.X509Certificate> rendezvousCas = List.of();
    InetSocketAddress stunServer;
    /** A transport to add: by bind endpoint (and optionally provider) with options by name, or an instance (tests). */
    record TransportSpec(Endpoint bind, String provider, Map<String, Object> options, Transport instance) {
    }

    final List<TransportSpec> transports = new ArrayList<>();
    ChannelOptions channelOptions = ChannelOptions.defaults();
    Duration connectTimeout = Duration.ofSeconds(10);
    PunchOptions punchOptions = PunchOptions.defaults();
    boolean hostCandidates = true;
    /** How long a direct link request is held undecided or rejected; not in the API (tests shorten it). */
    Duration pendingRequestTimeout = Duration.ofSeconds(30);
    /** New incoming direct handshakes admitted per second (and burst); not in the API yet. */
    double incomingRequestsPerSecond = 50;
    /** New direct requests per second answered without a handshake cookie; infinite turns cookies off (tests). */
    double cookieFreeRequestsPerSecond = SecureSetup.DEFAULT_COOKIE_FREE_PER_SECOND;
    /** Null: the default callback executor (see loop.Callbacks). */
    Executor callbackExecutor;

    @Override
    public Device.Builder identity(Path keyFile) {
        this.keyFile = Objects.requireNonNull(keyFile, "keyFile");
        this.ephemeral = false;
        return this;
    }

    @Override
    public Device.Builder ephemeralIdentity() {
        this.ephemeral = true;
        this.keyFile = null;
        return this;
    }

    @Override
    public Device.Builder rendezvous(URI controlUri) {
        Objects.requireNonNull(controlUri, "controlUri");
        if (!"ws".equals(controlUri.getScheme()) && !"wss".equals(controlUri.getScheme())
                && ControlCarriers.find(controlUri.getScheme()) == null) {
            throw new IllegalArgumentException("rendezvous URI must be ws:// or wss://, or of a scheme a control carrier serves ("
                    + ControlCarriers.schemes() + "; e.g. mqtt:// with peerlink-transport-mqtt), got " + controlUri);
        }
        this.rendezvous = controlUri;
        return this;
    }

    @Override
    public Device.Builder rendezvousPin(String pin) {
        this.rendezvousPin = io.peerlink.protocol.rendezvous.ServerPin.parse(pin);
        return this;
    }

    @Override
    public Device.Builder rendezvousProxy(InetSocketAddress proxy) {
        this.rendezvousProxy = proxy;
        this.rendezvousProxySocks = false;
        this.rendezvousProxyUser = null;
        this.rendezvousProxyPassword = null;
        return this;
    }

    @Override
    public Device.Builder rendezvousProxy(java.net.Proxy proxy, String user, char[] password) {
        Objects.requireNonNull(proxy, "proxy");
        if ((user == null) != (password == null)) {
            throw new IllegalArgumentException("a proxy user name and password go together: give both or neither");
        }
        if (user != null && user.indexOf(':') >= 0) {
            throw new IllegalArgumentException("a proxy user name cannot contain ':'");
        }
        if (proxy.type() == java.net.Proxy.Type.DIRECT) {
            this.rendezvousProxy = null;
            this.rendezvousProxySocks = false;
            this.rendezvousProxyUser = null;
            this.rendezvousProxyPassword = null;
            return this;
        }
        if (!(proxy.address() instanceof InetSocketAddress address)) {
            throw new IllegalArgumentException("the proxy's address must be an InetSocketAddress, got " + proxy.address());
        }
        this.rendezvousProxy = address;
        this.rendezvousProxySocks = proxy.type() == java.net.Proxy.Type.SOCKS;
        this.rendezvousProxyUser = user;
        this.rendezvousProxyPassword = password == null ? null : password.clone();
        return this;
    }

    @Override
    public Device.Builder rendezvousCa(Path pemFile) {
        Objects.requireNonNull(pemFile, "pemFile");
        List<java.security.cert.X509Certificate> cas = new ArrayList<>();
        try (java.io.InputStream in = java.nio.file.Files.newInputStream(pemFile)) {
            for (java.security.cert.Certificate c : java.security.cert.CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                cas.add((java.security.cert.X509Certificate) c);
            }
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("cannot read the rendezvous CA file " + pemFile + ": " + e, e);
        } catch (java.security.cert.CertificateException e) {
            throw new IllegalArgumentException("the rendezvous CA file " + pemFile + " is not PEM certificates: " + e.getMessage(), e);
        }
        if (cas.isEmpty()) {
            throw new IllegalArgumentException("the rendezvous CA file " + pemFile + " holds no certificate");
        }
        this.rendezvousCas = List.copyOf(cas);
        return this;
    }

    @Override
    public Device.Builder udp(InetSocketAddress bindAddress) {
        return transport(Endpoint.udp(Objects.requireNonNull(bindAddress, "bindAddress")));
    }

    @Override
    public Device.Builder transport(Endpoint bind) {
        transports.add(new TransportSpec(Objects.requireNonNull(bind, "bind"), null, Map.of(), null));
        return this;
    }

    @Override
    public Device.Builder transport(Endpoint bind, String provider) {
        transports.add(new TransportSpec(Objects.requireNonNull(bind, "bind"), Objects.requireNonNull(provider, "provider"), Map.of(), null));
        return this;
    }

    @Override
    public Device.Builder transport(Endpoint bind, Map<String, ?> options) {
        transports.add(new TransportSpec(Objects.requireNonNull(bind, "bind"), null, copyOptions(options), null));
        return this;
    }

    @Override
    public Device.Builder transport(Endpoint bind, String provider, Map<String, ?> options) {
        transports.add(new TransportSpec(Objects.requireNonNull(bind, "bind"), Objects.requireNonNull(provider, "provider"),
                copyOptions(options), null));
        return this;
    }

    private static Map<String, Object> copyOptions(Map<String, ?> options) {
        Objects.requireNonNull(options, "options");
        Map<String, Object> copy = new LinkedHashMap<>();
        options.forEach((name, value) -> {
            Objects.requireNonNull(name, "option name");
            Objects.requireNonNull(value, () -> "value of option " + name);
            if (name.isEmpty()) {
                throw new IllegalArgumentException("an option name is empty");
            }
            copy.put(name, value);
        });
        return Collections.unmodifiableMap(copy);
    }

    /**
     * Adds a transport instance the caller made (tests wrap one in an impairing decorator). Not
     * in the API: applications choose transports by endpoint and provider.
     *
     * @param transport a transport in state CREATED; the device starts and destroys it
     * @return this
     */
    DeviceBuilderImpl transport(Transport transport) {
        Objects.requireNonNull(transport, "transport");
        transports.add(new TransportSpec(null, null, Map.of(), transport));
        return this;
    }

    @Override
    public Device.Builder stunServer(InetSocketAddress server) {
        this.stunServer = Objects.requireNonNull(server, "server");
        return this;
    }

    @Override
    public Device.Builder hostCandidates(boolean advertise) {
        this.hostCandidates = advertise;
        return this;
    }

    @Override
    public Device.Builder openerTtl(int ttl) {
        this.punchOptions = punchOptions.withOpenerTtl(ttl);
        return this;
    }

    @Override
    public Device.Builder channelOptions(ChannelOptions options) {
        this.channelOptions = Objects.requireNonNull(options, "options");
        return this;
    }

    @Override
    public Device.Builder connectTimeout(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("connectTimeout must be positive: " + timeout);
        }
        this.connectTimeout = timeout;
        return this;
    }

    @Override
    public Device.Builder callbackExecutor(Executor executor) {
        this.callbackExecutor = Objects.requireNonNull(executor, "executor");
        return this;
    }

    @Override
    public Device build() {
        if (keyFile == null && !ephemeral) {
            throw new IllegalStateException("no identity: call identity(keyFile) or ephemeralIdentity()");
        }
        if (transports.isEmpty()) {
            throw new IllegalStateException("no transport: call transport(bind) or udp(bindAddress); transports are never added silently");
        }
        if (!rendezvousCas.isEmpty()) {
            if (rendezvous == null || !"wss".equals(rendezvous.getScheme())) {
                throw new IllegalStateException("rendezvousCa applies to a wss:// rendezvous only, got " + rendezvous);
            }
            if (rendezvousPin != null) {
                throw new IllegalStateException("rendezvousCa and rendezvousPin exclude each other: a pin names the server's own key, "
                        + "which a TLS-inspecting proxy replaces; use one of them");
            }
        }
        return DeviceImpl.start(this);
    }
}
