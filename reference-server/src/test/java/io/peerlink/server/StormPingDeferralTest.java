package io.peerlink.server;

import io.peerlink.protocol.identity.DeviceIdentity;
import io.peerlink.protocol.rendezvous.Message;
import io.peerlink.server.rendezvous.RendezvousService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The follow-up RTT pings of an admission (20, 60, 150 ms after the welcome) wait while the
 * server is in an admission storm (64 or more handshakes in flight), and come as usual otherwise.
 */
class StormPingDeferralTest {
    private final List<AutoCloseable> closeables = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
    }

    @Test
    void followUpPingsWaitDuringAnAdmissionStormAndComeOtherwise() throws Exception {
        ReferenceServer server = ReferenceServer.start(ServerConfig.builder().bindHost("127.0.0.1").httpPort(0).stunPort(-1).coapPort(-1)
                .open(true).limits(ServerConfig.Limits.defaults().withConnectionCaps(1000, 200)).build());
        closeables.add(server);
        RendezvousService service = server.bean(RendezvousService.class);

        // Quiet server: the welcome's ping, then three more within ~150 ms.
        assertEquals(4, pingsAfterAdmission(server, 1000), "a quiet server sends the follow-up RTT pings");
        awaitHandshaking(service, 0);

        // 64 connections that got a challenge and say nothing: a storm by the server's measure.
        List<RawControlClient> silent = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            RawControlClient c = new RawControlClient(server.controlUri());
            silent.add(c);
            closeables.add(c);
        }
        awaitHandshaking(service, 64);
        assertEquals(1, pingsAfterAdmission(server, 1000), "during a storm only the welcome's ping comes at once");

        // The storm ends (the silent connections go away): the next admission gets all four again.
        for (RawControlClient c : silent) {
            c.close();
        }
        awaitHandshaking(service, 0);
        assertEquals(4, pingsAfterAdmission(server, 1000), "after the storm the follow-up pings come again");
    }

    /** Admits a fresh device by signed hello and counts the server pings it gets within {@code millis}. */
    private int pingsAfterAdmission(ReferenceServer server, long millis) throws Exception {
        try (RawControlClient raw = new RawControlClient(server.controlUri())) {
            raw.send(RawControlClient.hello(DeviceIdentity.ephemeral(), raw.challenge.nonce()));
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
            int pings = 0;
            boolean welcomed = false;
            while (System.nanoTime() < deadline) {
                String text = raw.received.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
                if (text == null) {
                    break;
                }
                Message m = RawControlClient.CODEC.decode(text);
                if (m instanceof Message.Welcome) {
                    welcomed = true;
                } else if (m instanceof Message.Ping ping) {
                    pings++;
                    raw.send(new Message.Pong(ping.t()));
                }
            }
            assertTrue(welcomed, "the device was admitted");
            return pings;
        }
    }

    private static void awaitHandshaking(RendezvousService service, int expected) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (service.handshaking() != expected) {
            assertTrue(System.nanoTime() < deadline, "expected " + expected + " handshakes in flight, have " + service.handshaking());
            Thread.sleep(10);
        }
    }
}
