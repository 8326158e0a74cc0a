package io.peerlink.server.relay;

import io.peerlink.DeviceId;
import io.peerlink.protocol.rendezvous.RelayServer;
import io.peerlink.relay.turn.TurnCredentials;
import io.peerlink.relay.turn.TurnServer;
import io.peerlink.relay.turn.TurnServerConfig;
import io.peerlink.server.ServerConfig;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Logger;

/**
 * The relays the rendezvous hands out (docs/relay.md): the embedded {@link TurnServer} (on by
 * default) and any external TURN servers (coturn) configured with their shared secrets. For
 * every introduction it mints TURN REST credentials per side and link
 * ({@code <expiry>:<deviceId>.<linkTag>}); the embedded server grants a permission only towards
 * the addresses of the peer that introduction named (its candidates, its control connection, and
 * relayed addresses on this server), through its permission-policy hook. External servers check
 * the credential's HMAC and expiry only.
 */
public final class TurnRelays implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(TurnRelays.class.getName());
    private static final SecureRandom RANDOM = new SecureRandom();
    /** Links remembered at most; the oldest tags are forgotten first (their permissions then fail). */
    static final int MAX_LINKS = 100_000;

    private final ServerConfig.Relay config;
    private volatile TurnServer embedded;
    /** The embedded server's configuration, or null if it is off. */
    private final TurnServerConfig embeddedConfig;
    private final String secret;
    private final InetAddress relayAddress;
    private final Clock clock;
    /** link tag -> peer addresses it may be permitted to, and when the entry expires. */
    private final Map<String, Permit> permits = new ConcurrentHashMap<>();

    private record Permit(Set<InetAddress> peers, long expiresAtSecond) {
    }

    private TurnRelays(ServerConfig.Relay config, TurnServer embedded, TurnServerConfig embeddedConfig, String secret,
                       InetAddress relayAddress, Clock clock) {
        this.config = config;
        this.embedded = embedded;
        this.embeddedConfig = embeddedConfig;
        this.secret = secret;
        this.relayAddress = relayAddress;
        this.clock = clock;
    }

    /**
     * Starts the embedded TURN server unless its port is -1.
     *
     * @param server the server configuration
     * @return the relays
     * @throws UncheckedIOException if the TURN listeners cannot bind
     */
    public static TurnRelays start(ServerConfig server) {
        ServerConfig.Relay config = server.relay();
        if (config.turnPort() < 0) {
            return new TurnRelays(config, null, null, null, null, Clock.systemUTC());
        }
        String secret = config.secret();
        if (secret == null) {
            byte[] raw = new byte[32];
            RANDOM.nextBytes(raw);
            secret = Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
        }
        InetAddress bind;
        InetAddress relay;
        try {
            bind = InetAddress.getByName(server.bindHost());
            relay = config.relayAddress() != null ? InetAddress.getByName(config.relayAddress()) : defaultRelayAddress(bind);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("TURN: bind or relay address is not an IP address: " + e.getMessage(), e);
        }
        TurnRelays[] self = new TurnRelays[1];
        TurnServerConfig turn = TurnServerConfig.builder(secret).bindAddress(bind).relayAddress(relay)
                .udpPort(config.turnPort()).tcpPort(config.turnPort()).realm(config.realm())
                .allowLoopbackPeers(config.allowLoopbackPeers()).allowPrivatePeers(config.allowPrivatePeers())
                .maxBytesPerAllocation(config.maxBytesPerAllocation()).bytesPerSecondPerAllocation(config.bytesPerSecondPerAllocation())
                .maxAllocationsPerUser(config.allocationsPerDevice())
                .permissionPolicy((username, peer) -> self[0] != null && self[0].permitted(username, peer))
                .build();
        try {
            TurnServer started = TurnServer.start(turn);
            self[0] = new TurnRelays(config, started, turn, secret, relay, Clock.systemUTC());
            LOG.info(() -> "embedded TURN: udp " + started.udpAddress() + ", tcp " + started.tcpAddress() + ", relaying on "
                    + relay.getHostAddress() + (config.secret() == null ? " (secret generated for this run)" : ""));
            return self[0];
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the embedded TURN server on " + server.bindHost() + ":" + config.turnPort()
                    + " (" + e.getMessage() + "); choose another --turn-port or -1 for none", e);
        }
    }

    /** The bind address if specific, else the first up, non-loopback IPv4 interface address, else loopback. */
    private static InetAddress defaultRelayAddress(InetAddress bind) {
        if (!bind.isAnyLocalAddress()) {
            return bind;
        }
        try {
            for (NetworkInterface nif : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                if (!nif.isUp() || nif.isLoopback()) {
                    continue;
                }
                for (InetAddress a : Collections.list(nif.getInetAddresses())) {
                    if (a instanceof Inet4Address && !a.isLinkLocalAddress()) {
                        return a;
                    }
                }
            }
        } catch (SocketException e) {
            LOG.fine(() -> "cannot list interfaces: " + e.getMessage());
        }
        return InetAddress.getLoopbackAddress();
    }

    /** @return the embedded TURN server, or null if it is off */
    public TurnServer embedded() {
        return embedded;
    }

    /**
     * Stops the embedded TURN server and starts it again on the same ports with the same secret
     * and permission policy, as a process restart would: every allocation, permission and channel
     * is gone, and the clients must allocate again. For tests of relay restarts.
     *
     * @throws IOException if a port cannot be bound again
     * @throws IllegalStateException if the embedded server is off
     */
    void restartEmbedded() throws IOException {
        TurnServer old = embedded;
        if (old == null) {
            throw new IllegalStateException("the embedded TURN server is off");
        }
        TurnServerConfig c = embeddedConfig;
        InetSocketAddress udp = old.udpAddress();
        InetSocketAddress tcp = old.tcpAddress();
        old.close();
        embedded = TurnServer.start(new TurnServerConfig(c.bindAddress(), udp == null ? -1 : udp.getPort(), tcp == null ? -1 : tcp.getPort(),
                c.relayAddress(), c.realm(), c.secret(), c.maxAllocationsPerUser(), c.maxAllocations(), c.maxLifetime(),
                c.maxBytesPerAllocation(), c.bytesPerSecondPerAllocation(), c.requestsPerSecondPerIp(), c.allowLoopbackPeers(),
                c.allowPrivatePeers(), c.permissionPolicy()));
    }

    /** @return true if introductions carry any relay */
    public boolean enabled() {
        return embedded != null || !config.external().isEmpty();
    }

    /**
     * Mints one side's relays for one link.
     *
     * @param device the side the credentials are for
     * @param peerAddresses the addresses of the introduced peer (its candidates' and its control connection's)
     * @param serverHost how the device reaches this server (for the embedded relay's URIs when it
     *        listens on a wildcard address), or null
     * @return the TURN servers with credentials, embedded first
     */
    public List<RelayServer> mint(DeviceId device, Set<InetAddress> peerAddresses, InetAddress serverHost) {
        List<RelayServer> out = new ArrayList<>();
        Instant expiry = clock.instant().plus(config.credentialLifetime());
        if (embedded != null) {
            String tag = HexFormat.of().formatHex(randomBytes(8));
            Set<InetAddress> peers = ConcurrentHashMap.newKeySet();
            peers.addAll(peerAddresses);
            peers.add(relayAddress); // relay-to-relay pairs: the peer's allocation on this server
            if (permits.size() >= MAX_LINKS) {
                sweep();
            }
            if (permits.size() < MAX_LINKS) {
                permits.put(tag, new Permit(peers, expiry.getEpochSecond()));
            }
            TurnCredentials c = TurnCredentials.mint(secret, device.value(), tag, expiry);
            String host = host(embedded.udpAddress() != null ? embedded.udpAddress().getAddress() : embedded.tcpAddress().getAddress(),
                    serverHost);
            if (embedded.udpAddress() != null) {
                out.add(new RelayServer("turn:" + host + ":" + embedded.udpAddress().getPort() + "?transport=udp", c.username(), c.password()));
            }
            if (embedded.tcpAddress() != null) {
                out.add(new RelayServer("turn:" + host + ":" + embedded.tcpAddress().getPort() + "?transport=tcp", c.username(), c.password()));
            }
        }
        for (ServerConfig.ExternalTurn ext : config.external()) {
            TurnCredentials c = TurnCredentials.mint(ext.secret(), device.value(), expiry);
            for (String uri : ext.uris()) {
                out.add(new RelayServer(uri, c.username(), c.password()));
            }
        }
        return out.size() > io.peerlink.protocol.rendezvous.RendezvousCodec.MAX_RELAYS
                ? List.copyOf(out.subList(0, io.peerlink.protocol.rendezvous.RendezvousCodec.MAX_RELAYS)) : out;
    }

    private String host(InetAddress listening, InetAddress serverHost) {
        InetAddress a = listening.isAnyLocalAddress() ? (serverHost != null && !serverHost.isAnyLocalAddress() ? serverHost : relayAddress)
                : listening;
        String text = a.getHostAddress();
        return a instanceof Inet4Address ? text : "[" + text + "]";
    }

    /** The embedded server's permission policy: only towards the peer the link's introduction named. */
    boolean permitted(String username, InetAddress peer) {
        String tag = TurnCredentials.linkTag(username);
        Permit p = tag == null ? null : permits.get(tag);
        if (p == null) {
            return false;
        }
        if (p.expiresAtSecond < clock.instant().getEpochSecond()) {
            permits.remove(tag, p);
            return false;
        }
        return p.peers.contains(peer);
    }

    private void sweep() {
        long now = clock.instant().getEpochSecond();
        permits.values().removeIf(p -> p.expiresAtSecond < now);
    }

    private static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return b;
    }

    /** @return links with a live permission entry (tests, metrics) */
    public int links() {
        return permits.size();
    }

    @Override
    public void close() {
        if (embedded != null) {
            embedded.close();
        }
    }
}
