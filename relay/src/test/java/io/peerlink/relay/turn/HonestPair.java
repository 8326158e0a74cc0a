package io.peerlink.relay.turn;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Two well-behaved clients relaying to each other through channels in the background while a
 * test attacks the same server; every message must arrive byte-exact (each is resent up to five
 * times if the UDP leg loses it, as a real link would).
 */
final class HonestPair implements AutoCloseable {
    private final TurnClient a;
    private final TurnClient b;
    private final InetSocketAddress relayB;
    private final LinkedBlockingQueue<byte[]> atB = new LinkedBlockingQueue<>();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final Thread thread;
    private volatile boolean stop;
    private int delivered;

    HonestPair(InetSocketAddress server, String secret) throws IOException {
        Instant expiry = Instant.now().plusSeconds(600);
        a = TurnClient.connect(TurnClient.Protocol.UDP, server, TurnCredentials.mint(secret, "honest-a", expiry), null);
        b = TurnClient.connect(TurnClient.Protocol.UDP, server, TurnCredentials.mint(secret, "honest-b", expiry), null);
        b.onData((peer, data) -> atB.add(CoturnInteropTest.bytes(data)));
        InetSocketAddress relayA = a.allocate();
        relayB = b.allocate();
        b.createPermission(relayA.getAddress());
        a.bindChannel(relayB);
        thread = new Thread(this::relay, "honest-pair");
        thread.start();
    }

    private void relay() {
        Random random = new Random(1);
        try {
            while (!stop) {
                byte[] payload = new byte[100];
                random.nextBytes(payload);
                boolean arrived = false;
                for (int attempt = 0; attempt < 5 && !arrived; attempt++) {
                    a.send(relayB, ByteBuffer.wrap(payload));
                    byte[] got;
                    while ((got = atB.poll(1, TimeUnit.SECONDS)) != null) {
                        if (Arrays.equals(payload, got)) {
                            arrived = true;
                            break;
                        }
                    }
                }
                if (!arrived) {
                    throw new AssertionError("message " + delivered + " never arrived in five attempts");
                }
                delivered++;
                Thread.sleep(5);
            }
        } catch (Throwable t) {
            failure.set(t);
        }
    }

    /** Stops relaying and fails if any message was lost for good; returns how many were delivered. */
    int stopAndCheck() throws InterruptedException {
        stop = true;
        thread.join(15_000);
        if (failure.get() != null) {
            fail("honest relaying failed during the attack", failure.get());
        }
        assertTrue(delivered > 0, "honest pair delivered nothing");
        return delivered;
    }

    @Override
    public void close() {
        stop = true;
        try {
            thread.join(15_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        a.close();
        b.close();
    }
}
