package io.peerlink.transport.coap;

import io.peerlink.Device;
import io.peerlink.Endpoint;
import io.peerlink.PeerLink;
import io.peerlink.PeerLinks;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * CoAP as a PeerLink path: two devices whose only transport is {@code coap} (found through
 * {@code META-INF/services}) link with the secure handshake and move a message larger than one
 * CoAP datagram, byte-exact, through the public API.
 */
class TwoDevicesOverCoapTest {

    @Test
    void twoDevicesLinkOverCoapAndMoveAMessageByteExact() throws Exception {
        try (Device a = PeerLinks.device().ephemeralIdentity().transport(Endpoint.parse("coap://127.0.0.1:0")).build();
             Device b = PeerLinks.device().ephemeralIdentity().transport(Endpoint.parse("coap://127.0.0.1:0")).build()) {
            CompletableFuture<PeerLink> accepted = new CompletableFuture<>();
            b.onIncoming(request -> request.accept().whenComplete((link, e) -> {
                if (e != null) {
                    accepted.completeExceptionally(e);
                } else {
                    accepted.complete(link);
                }
            }));
            Endpoint bAt = b.localEndpoints().get(0);
            assertEquals("coap", bAt.scheme());
            PeerLink link = a.connect(bAt, b.id()).toCompletableFuture().get(30, TimeUnit.SECONDS);
            PeerLink atB = accepted.get(30, TimeUnit.SECONDS);
            assertEquals(b.id(), link.peer());
            assertEquals(a.id(), atB.peer(), "the accepting side sees the verified identity");
            assertEquals("coap", link.path().remote().scheme());
            assertNotNull(link.path().kind());
            BlockingQueue<byte[]> got = new LinkedBlockingQueue<>();
            atB.channel().onMessage((message, delivery) -> {
                byte[] bytes = new byte[message.remaining()];
                message.get(bytes);
                got.add(bytes);
            });
            byte[] payload = new byte[200_000];
            for (int i = 0; i < payload.length; i++) {
                payload[i] = (byte) (i * 31 + 7);
            }
            link.channel().send(ByteBuffer.wrap(payload)).toCompletableFuture().get(30, TimeUnit.SECONDS);
            assertArrayEquals(payload, got.poll(30, TimeUnit.SECONDS));
            byte[] hello = "hello over coap".getBytes(StandardCharsets.UTF_8);
            atB.channel().send(ByteBuffer.wrap(hello)).toCompletableFuture().get(30, TimeUnit.SECONDS);
        }
    }
}
