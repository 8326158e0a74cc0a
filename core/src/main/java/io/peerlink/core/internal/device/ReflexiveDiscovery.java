package io.peerlink.core.internal.device;

import io.peerlink.Endpoint;
import io.peerlink.core.internal.link.LinkSocket;
import io.peerlink.core.internal.loop.EventLoop;
import io.peerlink.protocol.stun.StunClient;
import io.peerlink.protocol.stun.StunFormatException;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Learns the device's server-reflexive address with STUN Binding requests sent from the link
 * socket itself (so the NAT mapping is the one links will use), and how many hops away the STUN
 * server is: requests go out with TTL 1..{@value #MAX_TTL} plus one with the default TTL; the
 * smallest TTL answered is the hop count, from which the opener TTL is derived
 * (docs/protocol-punching.md, "Opener TTL").
 */
final class ReflexiveDiscovery {
    /** Largest TTL probed for the hop count. */
    static final int MAX_TTL = 6;
    /** RFC 8489 section 6.2.1 retransmission schedule, shortened for a LAN-near server: ms. */
    private static final long[] SCHEDULE_MS = {0, 250, 750, 1750, 3750};

    /** Result: the mapped address and the hop count (0 if unknown). */
    record Result(InetSocketAddress mapped, int hops) {
    }

    private final EventLoop loop;
    private final LinkSocket socket;
    private final Endpoint server;
    private final Map<String, Integer> txids = new HashMap<>();
    private final CompletableFuture<Result> result = new CompletableFuture<>();
    private final SecureRandom random = new SecureRandom();
    private InetSocketAddress mapped;
    private int minTtl = Integer.MAX_VALUE;

    ReflexiveDiscovery(EventLoop loop, LinkSocket socket, InetSocketAddress server) {
        this.loop = loop;
        this.socket = socket;
        this.server = Endpoint.udp(server);
    }

    CompletableFuture<Result> run() {
        socket.onStun((source, datagram) -> onResponse(datagram));
        for (long at : SCHEDULE_MS) {
            loop.schedule(this::sendRound, TimeUnit.MILLISECONDS.toNanos(at));
        }
        loop.schedule(this::finish, TimeUnit.MILLISECONDS.toNanos(SCHEDULE_MS[SCHEDULE_MS.length - 1] + 1000));
        return result;
    }

    private void sendRound() {
        if (mapped != null) {
            return;
        }
        boolean ttl = socket.transport().capabilities().ttlControl();
        if (ttl) {
            for (int t = 1; t <= MAX_TTL; t++) {
                send(t);
            }
        }
        send(0);
    }

    private void send(int ttl) {
        byte[] txid = new byte[12];
        random.nextBytes(txid);
        txids.put(key(txid), ttl);
        ByteBuffer request = StunClient.request(txid);
        if (ttl > 0) {
            socket.sendWithTtl(server, request, ttl);
        } else {
            socket.send(server, request);
        }
    }

    private void onResponse(ByteBuffer datagram) {
        if (datagram.remaining() < 20) {
            return;
        }
        byte[] txid = new byte[12];
        datagram.get(datagram.position() + 8, txid);
        Integer ttl = txids.get(key(txid));
        if (ttl == null) {
            return;
        }
        Optional<InetSocketAddress> address;
        try {
            address = StunClient.parseResponse(datagram, txid);
        } catch (StunFormatException e) {
            return;
        }
        if (address.isEmpty()) {
            return;
        }
        boolean first = mapped == null;
        mapped = address.get();
        if (ttl > 0) {
            minTtl = Math.min(minTtl, ttl);
        }
        if (first) {
            // Give lower-TTL answers of the same round a moment to arrive, then report.
            loop.schedule(this::finish, TimeUnit.MILLISECONDS.toNanos(100));
        }
    }

    private void finish() {
        if (result.isDone()) {
            return;
        }
        if (mapped == null) {
            result.completeExceptionally(new java.io.IOException("no STUN answer from " + server));
        } else {
            result.complete(new Result(mapped, minTtl == Integer.MAX_VALUE ? 0 : minTtl));
        }
    }

    private static String key(byte[] txid) {
        return java.util.HexFormat.of().formatHex(txid);
    }
}
