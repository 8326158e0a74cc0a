package io.peerlink.testkit;

import io.peerlink.Endpoint;
import io.peerlink.spi.DatagramHandler;
import io.peerlink.spi.Transport;
import io.peerlink.spi.TransportCapabilities;

import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * A {@link Transport} on an {@link InMemoryNetwork}: unreliable (a full network queue drops),
 * ordered, no TTL control. A test fake; see {@link InMemoryNetwork}.
 */
public final class InMemoryTransport implements Transport {
    private final InMemoryNetwork network;
    private final Endpoint endpoint;
    private final TransportCapabilities capabilities;
    private volatile State state = State.CREATED;
    private volatile DatagramHandler handler;

    InMemoryTransport(InMemoryNetwork network, Endpoint endpoint, int maxDatagramSize) {
        this.network = network;
        this.endpoint = endpoint;
        this.capabilities = TransportCapabilities.builder().ordered(true).maxDatagramSize(maxDatagramSize).build();
    }

    Endpoint endpoint() {
        return endpoint;
    }

    DatagramHandler handler() {
        return state == State.STARTED ? handler : null;
    }

    @Override
    public synchronized void start(DatagramHandler handler) {
        Objects.requireNonNull(handler, "handler");
        if (state == State.STARTED || state == State.DESTROYED) {
            throw new IllegalStateException("cannot start in state " + state);
        }
        this.handler = handler;
        network.bind(this);
        state = State.STARTED;
    }

    @Override
    public synchronized void stop() {
        if (state == State.STARTED) {
            network.unbind(this);
            state = State.STOPPED;
        }
    }

    @Override
    public synchronized void destroy() {
        stop();
        state = State.DESTROYED;
    }

    @Override
    public State state() {
        return state;
    }

    @Override
    public Endpoint localEndpoint() {
        if (state != State.STARTED) {
            throw new IllegalStateException("not started: " + state);
        }
        return endpoint;
    }

    @Override
    public TransportCapabilities capabilities() {
        return capabilities;
    }

    @Override
    public boolean supports(Endpoint remote) {
        return InMemoryNetwork.SCHEME.equals(Objects.requireNonNull(remote, "remote").scheme());
    }

    @Override
    public boolean send(Endpoint remote, ByteBuffer datagram) {
        Objects.requireNonNull(remote, "remote");
        Objects.requireNonNull(datagram, "datagram");
        if (datagram.remaining() > capabilities.maxDatagramSize()) {
            throw new IllegalArgumentException("datagram of " + datagram.remaining() + " bytes exceeds " + capabilities.maxDatagramSize());
        }
        if (!supports(remote)) {
            throw new IllegalArgumentException("unsupported endpoint " + remote);
        }
        if (state != State.STARTED) {
            throw new IllegalStateException("not started: " + state);
        }
        return network.send(endpoint, remote, datagram);
    }

    @Override
    public String toString() {
        return "InMemoryTransport[" + endpoint + ", " + state + "]";
    }
}
