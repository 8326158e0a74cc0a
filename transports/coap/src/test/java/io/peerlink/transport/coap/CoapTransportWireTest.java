package io.peerlink.transport.coap;

import io.peerlink.Endpoint;
import io.peerlink.spi.DatagramHandler;
import io.peerlink.spi.Transport;
import io.peerlink.spi.TransportConfig;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.Size;
import org.eclipse.californium.elements.AddressEndpointContext;
import org.eclipse.californium.elements.RawData;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** What travels is plain CoAP: libcoap's client can send a PeerLink datagram; hostile bytes are dropped. */
class CoapTransportWireTest {

    private static final class Queue implements DatagramHandler {
        final BlockingQueue<byte[]> got = new LinkedBlockingQueue<>();

        @Override
        public void onDatagram(Endpoint source, ByteBuffer datagram) {
            byte[] b = new byte[datagram.remaining()];
            datagram.get(b);
            got.add(b);
        }
    }

    @Test
    void libcoapClientDeliversADatagram() throws Exception {
        boolean present = Files.isExecutable(Path.of("/usr/bin/coap-client-notls"));
        if (!present && "true".equals(System.getenv("CI"))) {
            fail("coap-client-notls is not installed (Debian libcoap3-bin); CI must install it");
        }
        Assumptions.assumeTrue(present, "coap-client-notls is not installed (Debian libcoap3-bin); skipping");
        Transport t = new CoapTransportProvider().create(TransportConfig.bind(Endpoint.parse("coap://127.0.0.1:0"))
                .build());
        Queue q = new Queue();
        t.start(q);
        try {
            Process p = new ProcessBuilder("coap-client-notls", "-N", "-B", "1", "-m", "post", "-e", "hello peer",
                    "coap://127.0.0.1:" + t.localEndpoint().port() + "/pl").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            p.waitFor(10, TimeUnit.SECONDS);
            byte[] got = q.got.poll(10, TimeUnit.SECONDS);
            assertNotNull(got, "libcoap's NON POST to /pl was not delivered");
            assertEquals("hello peer", new String(got, StandardCharsets.UTF_8));
            // A confirmable request or another resource is not a PeerLink datagram.
            Process other = new ProcessBuilder("coap-client-notls", "-N", "-B", "1", "-m", "post", "-e", "x",
                    "coap://127.0.0.1:" + t.localEndpoint().port() + "/other").redirectErrorStream(true).start();
            other.getInputStream().readAllBytes();
            other.waitFor(10, TimeUnit.SECONDS);
            assertEquals(null, q.got.poll(300, TimeUnit.MILLISECONDS));
        } finally {
            t.destroy();
        }
    }

    @Property(tries = 2000)
    void hostileBytesAreDroppedOrDeliveredNeverThrown(@ForAll @Size(max = 80) byte[] bytes) throws Exception {
        CoapTransport t = (CoapTransport) new CoapTransportProvider().create(
                TransportConfig.bind(Endpoint.parse("coap://127.0.0.1:0")).build());
        Queue q = new Queue();
        t.start(q);
        try {
            InetSocketAddress from = new InetSocketAddress("127.0.0.1", 40000);
            t.receive(RawData.inbound(bytes, new AddressEndpointContext(from), false, System.nanoTime(),
                    t.localEndpoint().toSocketAddress()));
            byte[] got = q.got.poll();
            // Anything delivered must have been a well-formed NON POST to /pl: at least a 4-byte header.
            assertTrue(got == null || bytes.length >= 4);
        } finally {
            t.destroy();
        }
    }
}
