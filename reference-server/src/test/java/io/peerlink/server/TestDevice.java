package io.peerlink.server;

import io.peerlink.DeviceId;
import io.peerlink.Rendezvous;
import io.peerlink.protocol.identity.DeviceIdentity;
import io.peerlink.core.internal.rendezvous.IncomingDecision;
import io.peerlink.core.internal.rendezvous.Introduction;
import io.peerlink.core.internal.rendezvous.RendezvousClient;

import java.net.URI;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A real RendezvousClient with a recording listener that accepts, or rejects with a reason. */
final class TestDevice implements AutoCloseable {
    final DeviceIdentity identity;
    final RendezvousClient client;
    final BlockingQueue<DeviceId> incoming = new LinkedBlockingQueue<>();
    final BlockingQueue<Introduction> introductions = new LinkedBlockingQueue<>();
    final BlockingQueue<Rendezvous.State> states = new LinkedBlockingQueue<>();
    volatile String rejectReason;
    /** When set, incoming requests are recorded and their decisions parked here, unanswered. */
    volatile boolean holdIncoming;
    final BlockingQueue<IncomingDecision> held = new LinkedBlockingQueue<>();

    TestDevice(URI server, DeviceIdentity identity) {
        this(server, identity, Map.of());
    }

    TestDevice(URI server, DeviceIdentity identity, Map<String, String> claims) {
        this.identity = identity;
        this.client = new RendezvousClient(server, identity, claims, new RendezvousClient.Listener() {
            @Override
            public void onIncoming(DeviceId from, IncomingDecision decision) {
                incoming.add(from);
                if (holdIncoming) {
                    held.add(decision);
                    return;
                }
                String reason = rejectReason;
                if (reason == null) {
                    decision.accept();
                } else {
                    decision.reject(reason);
                }
            }

            @Override
            public void onIntroduction(Introduction introduction) {
                introductions.add(introduction);
            }

            @Override
            public void onStateChange(Rendezvous.State state) {
                states.add(state);
            }
        });
    }

    static TestDevice started(URI server, DeviceIdentity identity) {
        TestDevice d = new TestDevice(server, identity);
        d.client.start();
        return d;
    }

    DeviceId id() {
        return identity.id();
    }

    void awaitRegistered() throws Exception {
        client.registered().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    void awaitState(Rendezvous.State wanted) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            Rendezvous.State s = states.poll(100, TimeUnit.MILLISECONDS);
            if (s == wanted || client.state() == wanted) {
                return;
            }
        }
        throw new AssertionError(id().shortForm() + " never reached " + wanted + ", is " + client.state());
    }

    @Override
    public void close() {
        client.close();
    }
}
