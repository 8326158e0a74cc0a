package io.peerlink.core.internal.rendezvous;

import io.peerlink.DeviceId;
import io.peerlink.Endpoint;
import io.peerlink.protocol.rendezvous.RelayFrame;
import io.peerlink.spi.DatagramHandler;
import io.peerlink.spi.Transport;
import io.peerlink.spi.TransportCapabilities;

import java.net.URI;
import java.nio.ByteBuffer;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The last-resort path (docs/relay.md, "WebSocket relay"): datagrams to a peer go as relay frames
 * over the device's rendezvous WebSocket, addressed by the peer's device ID, and the server hands
 * them to the peer's WebSocket. Endpoints are {@code wsrelay://<server host>:<port>/<device ID>};
 * a link's path on it reads "ws-relay via" the server. Relayed, unreliable (the server and this
 * client drop frames beyond their limits); what it carries of a link is sealed like any path.
 * Datagrams sent while the control connection is down are lost ({@code send} returns false).
 */
public final class WsRelayTransport implements Transport {
    /** Endpoint scheme. */
    public static final String SCHEME = "wsrelay";
    /** Datagrams this path carries at most (the channel's default packets are 1,200 bytes). */
    static final int MAX_DATAGRAM = 1472;
    private static final TransportCapabilities CAPABILITIES = TransportCapabilities.builder().maxDatagramSize(MAX_DATAGRAM)
            .relayed(true).build();

    private final RendezvousClient client;
    private final String host;
    private final int port;
    private final Endpoint local;
    private final Map<DeviceId, Endpoint> endpoints = new ConcurrentHashMap<>();
    private volatile State state = State.CREATED;

    /** @param client the device's rendezvous client, whose WebSocket carries the frames */
    public WsRelayTransport(RendezvousClient client) {
        this.client = client;
        URI server = client.server();
        this.host = server.getHost();
        this.port = server.getPort() >= 0 ? server.getPort() : "wss".equalsIgnoreCase(server.getScheme()) ? 443 : 80;
        this.local = endpointOf(client.deviceId());
    }

    /** @param device a device on the same rendezvous server @return its endpoint on this relay */
    public Endpoint endpointOf(DeviceId device) {
        return endpoints.computeIfAbsent(device, d -> new Endpoint(SCHEME, host, port, "/" + d.value()));
    }

    @Override
    public void start(DatagramHandler handler) {
        if (state != State.CREATED) {
            throw new IllegalStateException("transport is " + state);
        }
        client.onRelayFrame((from, datagram) -> handler.onDatagram(endpointOf(from), datagram));
        state = State.STARTED;
    }

    @Override
    public void stop() {
        if (state == State.STARTED) {
            client.onRelayFrame(null);
            state = State.STOPPED;
        }
    }

    @Override
    public void destroy() {
        stop();
        state = State.DESTROYED;
    }

    @Override
    public State state() {
        return state;
    }

    @Override
    public Endpoint localEndpoint() {
        return local;
    }

    @Override
    public TransportCapabilities capabilities() {
        return CAPABILITIES;
    }

    @Override
    public boolean supports(Endpoint remote) {
        return SCHEME.equals(remote.scheme()) && host.toLowerCase(Locale.ROOT).equals(remote.host().toLowerCase(Locale.ROOT))
                && port == remote.port() && peerOf(remote) != null;
    }

    private static DeviceId peerOf(Endpoint remote) {
        String path = remote.path();
        if (path.length() != 1 + RelayFrame.ID_LENGTH || path.charAt(0) != '/') {
            return null;
        }
        try {
            return DeviceId.parse(path.substring(1));
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    @Override
    public boolean send(Endpoint remote, ByteBuffer datagram) {
        if (state != State.STARTED) {
            throw new IllegalStateException("transport is " + state);
        }
        if (datagram.remaining() > MAX_DATAGRAM) {
            throw new IllegalArgumentException("datagram of " + datagram.remaining() + " bytes exceeds " + MAX_DATAGRAM);
        }
        DeviceId peer = peerOf(remote);
        if (peer == null || !supports(remote)) {
            throw new IllegalArgumentException("not a ws-relay endpoint of this server: " + remote);
        }
        boolean sent = client.sendRelay(peer, datagram);
        datagram.position(datagram.limit());
        return sent;
    }

    @Override
    public String toString() {
        return "ws-relay via " + host + ":" + port;
    }
}
