package io.peerlink.core.internal.session;

import io.peerlink.Endpoint;
import io.peerlink.PathInfo;
import io.peerlink.PathKind;
import io.peerlink.PathState;
import io.peerlink.core.internal.channel.DatagramPath;
import io.peerlink.core.internal.link.LinkSocket;
import io.peerlink.core.internal.loop.EventLoop;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * One path of a session: a transport (its receive demultiplexer), the local endpoint it is bound
 * to, a remote endpoint, a state and the bytes sent and received on it. Until the remote address
 * is validated, a path the peer opened (we heard from an address we never sent to) may carry at
 * most {@value #AMPLIFICATION_FACTOR} times the bytes received on it (RFC 9000 8.1), so a
 * packet with a forged source address cannot make this device flood the forged address.
 * Confined to the event loop.
 */
final class Path implements DatagramPath {
    /** Bytes an unvalidated, peer-opened path may send per byte received on it. */
    static final int AMPLIFICATION_FACTOR = 3;

    final LinkSocket socket;
    /** The socket's local endpoint; refreshed when the transport reports a new one (a new relay allocation). */
    Endpoint local;
    final Endpoint remote;
    final PathKind kind;
    /** True if the peer opened it (we learned the address from a received packet). */
    final boolean peerOpened;
    PathState state;
    boolean addressValidated;
    long bytesReceived;
    long bytesSent;
    long sendsRefused;
    long rttNanos;
    long lastHeard;
    /** Loop clock of the last packet on this path that was not only probing frames (0 before any). */
    long lastNonProbing;

    // validation, owned by Session
    long challenge;
    int challengesSent;
    long challengeSentAt;
    EventLoop.Timer retry;
    boolean switchWhenValid;
    final CompletableFuture<Path> validated = new CompletableFuture<>();

    Path(LinkSocket socket, Endpoint remote, PathKind kind, boolean peerOpened, PathState state) {
        this.socket = socket;
        this.local = socket.localEndpoint();
        this.remote = remote;
        this.kind = kind;
        this.peerOpened = peerOpened;
        this.state = state;
    }

    boolean relayed() {
        return socket.transport().capabilities().relayed();
    }

    /**
     * @return how good the path is, lower better: 0 unrelayed, 1 relayed (TURN, a broker), 2 the
     *         WebSocket relay (the last resort); a validated path of a lower rank replaces the active one
     */
    int rank() {
        return !relayed() ? 0 : "wsrelay".equals(remote.scheme()) ? 2 : 1;
    }

    boolean matches(LinkSocket via, Endpoint source) {
        return socket == via && remote.equals(source);
    }

    /** @return bytes this path may still send before its address is validated */
    long amplificationBudget() {
        if (addressValidated || !peerOpened) {
            return Long.MAX_VALUE;
        }
        return Math.max(0, AMPLIFICATION_FACTOR * bytesReceived - bytesSent);
    }

    @Override
    public boolean send(ByteBuffer datagram) {
        int size = datagram.remaining();
        if (state == PathState.FAILED || size > amplificationBudget()) {
            sendsRefused++;
            datagram.position(datagram.limit());
            return false;
        }
        bytesSent += size;
        try {
            return socket.send(remote, datagram);
        } catch (IllegalStateException e) {
            // The transport stopped (device closing, transport failed): a lost datagram; the
            // ARQ recovers on another path or the link times out.
            datagram.position(datagram.limit());
            return false;
        }
    }

    @Override
    public boolean batches() {
        return socket.batches();
    }

    /** As {@link #send} for each datagram; one call to the transport when nothing limits this path. */
    @Override
    public int sendBatch(ByteBuffer[] datagrams, int count) {
        if (state == PathState.FAILED || amplificationBudget() != Long.MAX_VALUE) {
            return DatagramPath.super.sendBatch(datagrams, count);
        }
        for (int i = 0; i < count; i++) {
            bytesSent += datagrams[i].remaining();
        }
        try {
            return socket.sendBatch(remote, datagrams, count);
        } catch (IllegalStateException e) {
            for (int i = 0; i < count; i++) {
                datagrams[i].position(datagrams[i].limit());
            }
            return 0;
        }
    }

    /** Reliable and ordered (a TCP relay, MQTT QoS 1): the channel picks its congestion controller by this. */
    @Override
    public boolean reliable() {
        var caps = socket.transport().capabilities();
        return caps.reliable() && caps.ordered();
    }

    @Override
    public int maxDatagramSize() {
        return socket.transport().capabilities().maxDatagramSize();
    }

    PathInfo info() {
        return new PathInfo(kind, local, remote, state, Duration.ofNanos(rttNanos));
    }

    @Override
    public String toString() {
        return "Path[" + kind + " " + local + " -> " + remote + " " + state + "]";
    }
}
