package io.peerlink.relay.turn;

import io.peerlink.Endpoint;
import io.peerlink.spi.Transport;
import io.peerlink.spi.TransportConfig;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * {@code turn.permitRelayed}: an allocation that permits its own relayed IP receives a peer on the
 * same relay from that peer's first datagrams, before it has sent the peer anything; one without
 * receives nothing (the relay drops what comes from peers without a permission). Real embedded
 * server, real transports on loopback.
 */
class TurnPermitRelayedTest {

    @Test
    void aPeerOnTheSameRelayGetsThroughBeforeThisSideSentAnything() throws Exception {
        byte[] raw = new byte[24];
        new SecureRandom().nextBytes(raw);
        String secret = HexFormat.of().formatHex(raw);
        try (TurnServer server = TurnServer.start(TurnServerConfig.builder(secret).allowLoopbackPeers(true)
                .udpPort(0).tcpPort(-1).build())) {
            Endpoint at = Endpoint.parse("turn://127.0.0.1:" + server.udpAddress().getPort());
            Transport sender = transport(at, secret, "sender", false);
            Transport permitting = transport(at, secret, "permitting", true);
            Transport plain = transport(at, secret, "plain", false);
            BlockingQueue<String> atPermitting = new LinkedBlockingQueue<>();
            BlockingQueue<String> atPlain = new LinkedBlockingQueue<>();
            sender.start((source, datagram) -> { });
            permitting.start((source, datagram) -> atPermitting.add(StandardCharsets.UTF_8.decode(datagram).toString()));
            plain.start((source, datagram) -> atPlain.add(StandardCharsets.UTF_8.decode(datagram).toString()));
            try {
                // Neither receiver ever sends. The sender's own permission comes from its first
                // send's channel binding, so it repeats, as a connectivity check does.
                String got = null;
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                while (got == null && System.nanoTime() < deadline) {
                    sender.send(permitting.localEndpoint(), ByteBuffer.wrap("probe".getBytes(StandardCharsets.UTF_8)));
                    sender.send(plain.localEndpoint(), ByteBuffer.wrap("probe".getBytes(StandardCharsets.UTF_8)));
                    got = atPermitting.poll(20, TimeUnit.MILLISECONDS);
                }
                assertEquals("probe", got, "the allocation that permits its relayed IP receives its neighbour on the relay");
                for (int i = 0; i < 10; i++) {
                    sender.send(plain.localEndpoint(), ByteBuffer.wrap("probe".getBytes(StandardCharsets.UTF_8)));
                    Thread.sleep(20);
                }
                assertNull(atPlain.poll(200, TimeUnit.MILLISECONDS), "without turn.permitRelayed the relay drops the neighbour's datagrams");
            } finally {
                sender.destroy();
                permitting.destroy();
                plain.destroy();
            }
        }
    }

    private static Transport transport(Endpoint server, String secret, String device, boolean permitRelayed) {
        return new TurnTransportProvider().create(TransportConfig.bind(server)
                .set(TurnOptions.SECRET, secret).set(TurnOptions.DEVICE_ID, device)
                .set(TurnOptions.PERMIT_RELAYED, permitRelayed).build());
    }
}
