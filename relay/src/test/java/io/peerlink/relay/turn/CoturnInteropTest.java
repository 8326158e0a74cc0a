package io.peerlink.relay.turn;

import io.peerlink.testkit.Coturn;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.List;
import java.util.Random;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** Our TURN client against a real coturn: allocations, permissions, channels and indications, byte-exact. */
class CoturnInteropTest {
    private static Coturn coturn;

    @BeforeAll
    static void startCoturn() throws Exception {
        coturn = Coturn.start(List.of());
    }

    @AfterAll
    static void stopCoturn() throws Exception {
        if (coturn != null) {
            coturn.close();
        }
    }

    private static TurnCredentials credentials(String device) {
        return TurnCredentials.mint(coturn.secret(), device, Instant.now().plusSeconds(3600));
    }

    @Test
    void twoUdpClientsRelayThroughCoturnWithIndicationsAndChannels() throws Exception {
        exchange(TurnClient.Protocol.UDP, TurnClient.Protocol.UDP);
    }

    @Test
    void tcpClientRelaysToUdpClientThroughCoturn() throws Exception {
        exchange(TurnClient.Protocol.TCP, TurnClient.Protocol.UDP);
    }

    @Test
    void wrongPasswordIsRefusedWith401() throws Exception {
        TurnCredentials good = credentials("mallory");
        try (TurnClient c = TurnClient.connect(TurnClient.Protocol.UDP, coturn.address(),
                new TurnCredentials(good.username(), "d3Jvbmc="), null)) {
            TurnException e = assertThrows(TurnException.class, c::allocate);
            assertEquals(401, e.code(), e.getMessage());
        }
    }

    @Test
    void expiredRestCredentialIsRefused() throws Exception {
        TurnCredentials old = TurnCredentials.mint(coturn.secret(), "late", Instant.now().minusSeconds(60));
        try (TurnClient c = TurnClient.connect(TurnClient.Protocol.UDP, coturn.address(), old, null)) {
            TurnException e = assertThrows(TurnException.class, c::allocate);
            assertEquals(401, e.code(), e.getMessage());
        }
    }

    static void exchange(TurnClient.Protocol pa, TurnClient.Protocol pb, InetSocketAddress server,
                         TurnCredentials ca, TurnCredentials cb) throws IOException, InterruptedException {
        exchange(pa, server, pb, server, ca, cb);
    }

    static void exchange(TurnClient.Protocol pa, InetSocketAddress serverA, TurnClient.Protocol pb, InetSocketAddress serverB,
                         TurnCredentials ca, TurnCredentials cb) throws IOException, InterruptedException {
        try (TurnClient a = TurnClient.connect(pa, serverA, ca, null);
             TurnClient b = TurnClient.connect(pb, serverB, cb, null)) {
            LinkedBlockingQueue<Object[]> atA = new LinkedBlockingQueue<>();
            LinkedBlockingQueue<Object[]> atB = new LinkedBlockingQueue<>();
            a.onData((peer, data) -> atA.add(new Object[] {peer, bytes(data)}));
            b.onData((peer, data) -> atB.add(new Object[] {peer, bytes(data)}));
            InetSocketAddress relayA = a.allocate();
            InetSocketAddress relayB = b.allocate();
            assertNotEquals(relayA, relayB);
            a.createPermission(relayB.getAddress());
            b.createPermission(relayA.getAddress());
            Random random = new Random(42);
            // Send indications first, then the same traffic over channels.
            for (int round = 0; round < 2; round++) {
                if (round == 1) {
                    assertTrue(a.bindChannel(relayB) >= 0x4000);
                    assertTrue(b.bindChannel(relayA) >= 0x4000);
                }
                for (int size : new int[] {1, 3, 100, 1200}) {
                    byte[] ab = new byte[size];
                    random.nextBytes(ab);
                    a.send(relayB, ByteBuffer.wrap(ab));
                    Object[] got = atB.poll(10, TimeUnit.SECONDS);
                    assertNotNull(got, "B received nothing in round " + round + " size " + size);
                    assertEquals(relayA, got[0]);
                    assertArrayEquals(ab, (byte[]) got[1]);
                    byte[] ba = new byte[size];
                    random.nextBytes(ba);
                    b.send(relayA, ByteBuffer.wrap(ba));
                    got = atA.poll(10, TimeUnit.SECONDS);
                    assertNotNull(got, "A received nothing in round " + round + " size " + size);
                    assertEquals(relayB, got[0]);
                    assertArrayEquals(ba, (byte[]) got[1]);
                }
            }
        }
    }

    private void exchange(TurnClient.Protocol pa, TurnClient.Protocol pb) throws IOException, InterruptedException {
        exchange(pa, pb, coturn.address(), credentials("alice"), credentials("bob"));
    }

    static byte[] bytes(ByteBuffer data) {
        byte[] b = new byte[data.remaining()];
        data.get(b);
        return b;
    }
}
