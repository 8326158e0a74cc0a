package io.peerlink;

import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletionStage;

/**
 * A PeerLink device: an identity, the transports it listens on and, optionally, a rendezvous
 * server. Made by {@link PeerLinks#device()}. Thread-safe.
 */
public interface Device extends AutoCloseable {

    /** @return this device's ID, derived from its public key */
    DeviceId id();

    /**
     * @return the rendezvous connection
     * @throws IllegalStateException if the device was built without a rendezvous server
     */
    Rendezvous rendezvous();

    /** @return the local endpoints the device's transports are bound to, in the order they were added */
    java.util.List<Endpoint> localEndpoints();

    /**
     * Establishes a link to a peer through the rendezvous server: introduction, candidate
     * exchange, connectivity checks (LAN first, then reflexive, with a synchronised punch), and
     * relay fallback where configured.
     *
     * @param peer the peer
     * @return completes with the link; fails with {@link UnreachableException} naming why:
     *         {@code NO_RENDEZVOUS} at once, with the cause (e.g. "connection refused to
     *         ws://..."), while the rendezvous server cannot be reached; OFFLINE, DENIED, UNKNOWN,
     *         REJECTED as the server answers; NO_PATH after the connectivity checks (3 s by
     *         default); TIMEOUT after {@link Builder#connectTimeout} plus the checks' duration
     *         (13 s by default), with the last rendezvous failure as cause if any; {@code WRONG_PEER} if
     *         the device behind the introduced path cannot prove it is {@code peer}
     * @throws NullPointerException if peer is null
     * @throws IllegalStateException if there is no rendezvous server or the device is closed
     */
    CompletionStage<PeerLink> connect(DeviceId peer);

    /**
     * Establishes a link directly to a known endpoint, without a rendezvous server, with any
     * device that proves its identity in the secure handshake (check {@link PeerLink#peer()}, or
     * use {@link #connect(Endpoint, DeviceId)}).
     *
     * @param endpoint where the peer listens
     * @return completes with the link; fails with {@link UnreachableException} on timeout
     * @throws NullPointerException if endpoint is null
     * @throws IllegalArgumentException if no transport supports the endpoint, or its host cannot be resolved
     * @throws IllegalStateException if the device is closed
     */
    CompletionStage<PeerLink> connect(Endpoint endpoint);

    /**
     * Establishes a link directly to a known endpoint and requires the peer to prove a given
     * identity in the secure handshake.
     *
     * @param endpoint where the peer listens
     * @param expected the device that must answer, or null to accept any verified device (then
     *        check {@link PeerLink#peer()})
     * @return completes with the link; fails with {@link UnreachableException}: {@code WRONG_PEER}
     *         if another device answered, {@code REJECTED}, or {@code TIMEOUT}
     * @throws NullPointerException if endpoint is null
     * @throws IllegalArgumentException if no transport supports the endpoint, or its host cannot be resolved
     * @throws IllegalStateException if the device is closed
     */
    CompletionStage<PeerLink> connect(Endpoint endpoint, DeviceId expected);

    /**
     * Sets the handler of incoming link requests, direct or through the rendezvous. Without one,
     * every request is rejected.
     *
     * @param handler the handler
     * @throws NullPointerException if handler is null
     */
    void onIncoming(IncomingHandler handler);

    /**
     * Shuts the device down gracefully and returns when it is down. Refuses new links and fails
     * link set-ups still in progress ({@link ChannelClosedException}, {@link CloseReason#SHUTDOWN});
     * closes every open link as {@link PeerLink#close()} does, so that everything accepted by
     * {@code send} is delivered and acknowledged; then closes the rendezvous connection and the
     * transports. Links close before the rendezvous connection, so peers do not see this device
     * go offline while its data is still in flight.
     *
     * <p>Maximum time: {@link ChannelOptions#closeTimeout()} (default 10 s) plus 1 s. Links not
     * closed by then are aborted with {@link CloseReason#SHUTDOWN} and their pending sends fail
     * with {@link ChannelClosedException}: an accepted message is delivered or its stage fails,
     * never dropped silently.
     *
     * <p>Idempotent: a second call returns when the first one has finished (or at once if the
     * first one was {@link #abort()}).
     *
     * @throws IllegalStateException if called on the device's event loop thread (only possible
     *         with a callback executor that runs tasks on the submitting thread)
     */
    @Override
    void close();

    /**
     * Shuts the device down at once: aborts every link (the peers see {@link CloseReason#ABORTED}
     * "device aborted"), fails every pending send and link set-up, closes the rendezvous
     * connection and the transports. Returns within about 1 s (the time the loop gets to send the
     * peers their CLOSE frames). Never waits for a peer. Idempotent.
     */
    void abort();

    /** Builds a {@link Device}; not thread-safe. Obtain one from {@link PeerLinks#device()}. */
    interface Builder {
        /**
         * @param keyFile the device's Ed25519 key file; created with owner-only permissions if
         *        missing
         * @return this
         */
        Builder identity(Path keyFile);

        /**
         * Uses an identity that lives only in memory (tests, demos); its ID changes every run.
         *
         * @return this
         */
        Builder ephemeralIdentity();

        /**
         * The control connection registers within 15 s or is retried; after a loss it reconnects
         * with exponential backoff (250 ms doubling, at most 30 s between attempts); the server
         * pings every 15 s and either side drops a connection silent for 3 intervals
         * (docs/protocol-rendezvous.md).
         *
         * <p>The control URI is {@code ws://} or {@code wss://}, or of a scheme a control carrier on
         * the class path serves: {@code mqtt://<broker>:<port>} / {@code mqtts://} with
         * peerlink-transport-mqtt runs the rendezvous over an MQTT broker, with the credentials of
         * the device's MQTT transport to that broker (docs/protocol-rendezvous.md, "The MQTT carrier").
         *
         * @param controlUri the rendezvous server's control URI
         * @return this
         * @throws IllegalArgumentException if no carrier serves the URI's scheme
         */
        Builder rendezvous(URI controlUri);

        /**
         * Pins the rendezvous server's TLS key ({@code wss://} only): the device then accepts that
         * key and no other, whatever certificate authorities say, and a mismatch fails the
         * connection with a message naming both keys. The reference server prints its pin at start.
         *
         * @param pin {@code sha256/<base64>} (SHA-256 of the certificate's SubjectPublicKeyInfo) or 64 hex digits
         * @return this
         * @throws IllegalArgumentException if the pin is not in one of those forms
         */
        Builder rendezvousPin(String pin);

        /**
         * Reaches the rendezvous server ({@code ws://} or {@code wss://}) through an HTTP proxy:
         * the control WebSocket, and with it the WebSocket relay, goes through a
         * {@code CONNECT <server host>:<port>} tunnel, for {@code ws://} as for {@code wss://}
         * (TLS stays end to end between the device and the server). For networks where only an
         * HTTP(S) proxy gets out; no proxy credentials are sent (see the overload with them). A proxy that refuses the tunnel
         * or cannot be reached fails the connection with a message naming the proxy. Default:
         * none (connect directly).
         *
         * @param proxy the proxy's address, or null for none
         * @return this
         */
        Builder rendezvousProxy(InetSocketAddress proxy);

        /**
         * As {@link #rendezvousProxy(InetSocketAddress)}, for an HTTP proxy that wants a user name
         * and password, or a SOCKS5 proxy. An HTTP proxy ({@link java.net.Proxy.Type#HTTP}) gets
         * the tunnel request {@code CONNECT host:port} with {@code Proxy-Authorization: Basic ...};
         * a SOCKS5 proxy ({@link java.net.Proxy.Type#SOCKS}; SOCKS4 is not supported) a SOCKS5
         * {@code CONNECT} (RFC 1928), with the user name and password of RFC 1929 if given. A proxy
         * that refuses them fails the connection with a message naming the user (never the
         * password). Both schemes send the password readably to the proxy: use them with a proxy
         * on a network you trust.
         *
         * @param proxy the proxy, {@code HTTP} or {@code SOCKS}, with an {@link InetSocketAddress};
         *        {@link java.net.Proxy#NO_PROXY} for none
         * @param user the user name, or null for none
         * @param password the password (copied), or null; given exactly when {@code user} is
         * @return this
         * @throws NullPointerException if {@code proxy} is null
         * @throws IllegalArgumentException if only one of user and password is given, the user
         *         name contains {@code ':'}, or the proxy's address is not an InetSocketAddress
         */
        Builder rendezvousProxy(java.net.Proxy proxy, String user, char[] password);

        /**
         * Trusts the certificate authorities in a PEM file for the {@code wss://} rendezvous, in
         * addition to the JDK's: for a network whose TLS-inspecting proxy re-signs every HTTPS
         * connection with its own CA. The host name is still checked. Such a proxy reads the
         * rendezvous signalling, never the links' payloads, which stay sealed end to end (see
         * docs/security.md). Without it, a re-signed certificate fails the connection with a
         * message naming the issuer. Not with {@link #rendezvousPin(String)}, which names the
         * server's own key (a TLS-inspecting proxy replaces it).
         *
         * @param pemFile one or more {@code -----BEGIN CERTIFICATE-----} blocks
         * @return this
         * @throws IllegalArgumentException if the file cannot be read or holds no certificate
         */
        Builder rendezvousCa(Path pemFile);

        /**
         * Adds a UDP socket bound to the given address ({@code 0.0.0.0:0} for any port on all
         * interfaces): shorthand for {@code transport(Endpoint.udp(bindAddress))}. Transports are
         * never added silently: a device without one cannot link.
         *
         * @param bindAddress the address to bind
         * @return this
         */
        Builder udp(InetSocketAddress bindAddress);

        /**
         * Adds a transport bound to an endpoint, created by the {@link java.util.ServiceLoader}
         * provider ({@code io.peerlink.spi.TransportProvider}) of the endpoint's scheme. A device
         * holds any number of transports; links and paths use whichever supports the remote
         * endpoint. If several providers serve the scheme, {@link #build()} fails naming them
         * all: pick one with {@link #transport(Endpoint, String)}. A built-in transport is never
         * replaced by another provider unless the application names that provider.
         *
         * @param bind where to bind, e.g. {@code udp://0.0.0.0:0}
         * @return this
         * @throws NullPointerException if bind is null
         */
        Builder transport(Endpoint bind);

        /**
         * Adds a transport made by one named provider of the endpoint's scheme.
         *
         * @param bind where to bind
         * @param provider the provider's class name, e.g.
         *        {@code io.peerlink.transport.udp.UdpTransportProvider}
         * @return this
         * @throws NullPointerException if an argument is null
         */
        Builder transport(Endpoint bind, String provider);

        /**
         * Adds a transport bound to an endpoint, chosen as by {@link #transport(Endpoint)}, with
         * options set by name: broker credentials, TLS, topics and the like. The names are those
         * the transport's provider documents (e.g. {@code mqtt.username}, {@code mqtt.tls},
         * {@code socketio.hmacSecret}; docs/transports.md). A value is either text, converted to
         * the option's type — integers and longs in decimal, booleans {@code true}/{@code false},
         * durations as ISO-8601 ({@code PT30S}) or a number with a unit {@code ms}, {@code s},
         * {@code m}, {@code h}, {@code d} ({@code 30s}), enums by constant name, other types in the
         * provider's documented text form — or an object of the option's type (e.g. an
         * {@code Integer}, a {@code Duration}, or a transport's own type such as its TLS settings).
         * Options not given keep their defaults.
         *
         * <p>The options are checked by {@link #build()}, which fails with a
         * {@link PeerLinkException} naming the bind endpoint and: an option the provider does not
         * declare (with the options it does declare), a value that cannot be converted (with the
         * form expected), or a value the provider refuses (with its reason).
         *
         * @param bind where to bind, e.g. {@code mqtt://broker.example:1883/<this device's inbox>}
         * @param options option name to value; copied
         * @return this
         * @throws NullPointerException if an argument, an option name or a value is null
         * @throws IllegalArgumentException if an option name is empty
         */
        Builder transport(Endpoint bind, Map<String, ?> options);

        /**
         * Adds a transport made by one named provider of the endpoint's scheme, with options set by
         * name as for {@link #transport(Endpoint, Map)}.
         *
         * @param bind where to bind
         * @param provider the provider's class name
         * @param options option name to value; copied
         * @return this
         * @throws NullPointerException if an argument, an option name or a value is null
         * @throws IllegalArgumentException if an option name is empty
         */
        Builder transport(Endpoint bind, String provider, Map<String, ?> options);

        /**
         * @param server the STUN server used to learn this device's reflexive address; default:
         *        the rendezvous server's host on port 3478
         * @return this
         */
        Builder stunServer(InetSocketAddress server);

        /**
         * @param advertise whether to publish the device's private (host) addresses as
         *        candidates; default true. False keeps LAN addresses private and forces public
         *        (reflexive) paths, e.g. through a hairpinning NAT.
         * @return this
         */
        Builder hostCandidates(boolean advertise);

        /**
         * @param ttl IP TTL of hole-punch openers, 1..255, or 0 (the default) to derive it from
         *        the hop count to the STUN server, capped at 3 (docs/protocol-punching.md)
         * @return this
         * @throws IllegalArgumentException if ttl is out of range
         */
        Builder openerTtl(int ttl);

        /**
         * @param options the options of every channel this device opens
         * @return this
         */
        Builder channelOptions(ChannelOptions options);

        /**
         * @param timeout how long {@link Device#connect} tries before failing with
         *        {@link UnreachableException.Reason#TIMEOUT}; default 10 s. {@code connect(DeviceId)}
         *        adds the connectivity checks' duration (3 attempts of 1 s), so it fails after
         *        13 s by default; {@code connect(Endpoint)} after exactly this timeout. The same bound
         *        applies to accepting an incoming link through the rendezvous.
         * @return this
         */
        Builder connectTimeout(Duration timeout);

        /**
         * Sets where application code runs: {@link IncomingHandler}s, {@link MessageHandler}s,
         * {@link LinkListener}s and the completion of every stage the device and its links
         * return. The device's event loop never runs application code, so a slow or blocking
         * callback cannot stall other links. One link's message handler and listeners run one at
         * a time, in order; different links' run in parallel as far as the executor allows. Stage
         * completions are not queued behind a link's callbacks, so a callback may wait for a
         * stage (given a thread to complete it on). The executor must not run tasks on the
         * submitting thread: that thread may be the event loop, where waiting for a stage fails
         * with an {@link IllegalStateException} instead of freezing the device.
         *
         * <p>Default: a pool of daemon threads named {@code peerlink-callback-<device>-<n>},
         * created on demand, each ended after 10 s idle.
         *
         * @param executor the executor
         * @return this
         * @throws NullPointerException if executor is null
         */
        Builder callbackExecutor(java.util.concurrent.Executor executor);

        /**
         * Builds and starts the device: binds transports and, if configured, starts connecting
         * to the rendezvous server.
         *
         * @return the device
         * @throws IllegalStateException if no identity or no transport was configured
         * @throws IdentityException if the key file is unusable
         * @throws PeerLinkException if a transport cannot be bound, no provider serves its scheme,
         *         several do and none was named, or the named one is not found (the message lists
         *         the providers found)
         */
        Device build();
    }
}
