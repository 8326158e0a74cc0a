package com.example.peerlink.tcpframed;

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

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The plug-in in use: two devices, each with only the {@code tcpf} transport (found through
 * {@code META-INF/services}), link directly and exchange a message through the public API.
 */
class TwoDevicesOverTcpFramedTest {

    @Test
    void twoDevicesLinkAndExchangeAMessageOverTheTcpFramedTransport() throws Exception {
        try (Device a = PeerLinks.device().ephemeralIdentity().transport(Endpoint.parse("tcpf://127.0.0.1:0")).build();
             Device b = PeerLinks.device().ephemeralIdentity().transport(Endpoint.parse("tcpf://127.0.0.1:0")).build()) {
            CompletableFuture<PeerLink> accepted = new CompletableFuture<>();
            b.onIncoming(request -> request.accept().whenComplete((link, e) -> {
                if (e != null) {
                    accepted.completeExceptionally(e);
                } else {
                    accepted.complete(link);
                }
            }));
            Endpoint bAt = b.localEndpoints().get(0);
            assertEquals("tcpf", bAt.scheme());
            PeerLink link = a.connect(bAt).toCompletableFuture().get(30, TimeUnit.SECONDS);
            PeerLink atB = accepted.get(30, TimeUnit.SECONDS);
            assertEquals(b.id(), link.peer());
            assertEquals(a.id(), atB.peer());
            BlockingQueue<String> got = new LinkedBlockingQueue<>();
            atB.channel().onMessage((message, delivery) -> {
                byte[] bytes = new byte[message.remaining()];
                message.get(bytes);
                got.add(new String(bytes, StandardCharsets.UTF_8));
            });
            link.channel().send(ByteBuffer.wrap("hello over tcpf".getBytes(StandardCharsets.UTF_8))).toCompletableFuture().get(30, TimeUnit.SECONDS);
            assertEquals("hello over tcpf", got.poll(30, TimeUnit.SECONDS));
        }
    }
}
