package io.peerlink.relay.turn;

import io.peerlink.testkit.Coturn;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** TURN over TLS (the leg that gets through networks blocking UDP) against a real coturn. */
class CoturnTlsInteropTest {

    @Test
    void tlsClientRelaysToUdpClientThroughCoturn() throws Exception {
        Path dir = Files.createTempDirectory("turn-tls");
        TestTls tls = TestTls.generate(dir);
        int tlsPort = Coturn.freeUdpAndTcpPort();
        try (Coturn coturn = Coturn.start(List.of("--tls-listening-port=" + tlsPort, "--cert=" + tls.cert, "--pkey=" + tls.key))) {
            SSLContext trust = tls.clientContext();
            InetSocketAddress tlsServer = new InetSocketAddress(InetAddress.getLoopbackAddress(), tlsPort);
            Instant expiry = Instant.now().plusSeconds(600);
            try (TurnClient a = TurnClient.connect(TurnClient.Protocol.TLS, tlsServer, TurnCredentials.mint(coturn.secret(), "tls-a", expiry), trust);
                 TurnClient b = TurnClient.connect(TurnClient.Protocol.UDP, coturn.address(), TurnCredentials.mint(coturn.secret(), "udp-b", expiry), null)) {
                LinkedBlockingQueue<byte[]> atB = new LinkedBlockingQueue<>();
                LinkedBlockingQueue<byte[]> atA = new LinkedBlockingQueue<>();
                a.onData((peer, data) -> atA.add(CoturnInteropTest.bytes(data)));
                b.onData((peer, data) -> atB.add(CoturnInteropTest.bytes(data)));
                InetSocketAddress relayA = a.allocate();
                InetSocketAddress relayB = b.allocate();
                a.bindChannel(relayB);
                b.bindChannel(relayA);
                byte[] payload = new byte[1201];
                new java.util.Random(7).nextBytes(payload);
                a.send(relayB, ByteBuffer.wrap(payload));
                assertArrayEquals(payload, atB.poll(10, TimeUnit.SECONDS));
                b.send(relayA, ByteBuffer.wrap(payload, 0, 1199));
                assertArrayEquals(java.util.Arrays.copyOf(payload, 1199), atA.poll(10, TimeUnit.SECONDS));
            }
        }
    }
}
