package io.peerlink.core.internal.channel;

import io.peerlink.Endpoint;
import io.peerlink.spi.Transport;

import java.nio.ByteBuffer;
import java.util.Objects;

/** A {@link DatagramPath} to one remote endpoint through an SPI {@link Transport}. */
public final class TransportPath implements DatagramPath {
    private final Transport transport;
    private final Endpoint remote;

    /**
     * @param transport a started transport
     * @param remote where datagrams go
     * @throws NullPointerException if an argument is null
     * @throws IllegalArgumentException if the transport does not support the endpoint
     */
    public TransportPath(Transport transport, Endpoint remote) {
        this.transport = Objects.requireNonNull(transport, "transport");
        this.remote = Objects.requireNonNull(remote, "remote");
        if (!transport.supports(remote)) {
            throw new IllegalArgumentException(transport + " cannot reach " + remote);
        }
    }

    /** Returns false, as a dropped datagram, if the transport is stopped: the ARQ then recovers or times out. */
    @Override
    public boolean send(ByteBuffer datagram) {
        try {
            return transport.send(remote, datagram);
        } catch (IllegalStateException e) {
            datagram.position(datagram.limit());
            return false;
        }
    }

    @Override
    public boolean batches() {
        return transport.capabilities().batchSend();
    }

    @Override
    public int sendBatch(ByteBuffer[] datagrams, int count) {
        try {
            return transport.sendBatch(remote, datagrams, 0, count);
        } catch (IllegalStateException e) {
            for (int i = 0; i < count; i++) {
                datagrams[i].position(datagrams[i].limit());
            }
            return 0;
        }
    }

    @Override
    public int maxDatagramSize() {
        return transport.capabilities().maxDatagramSize();
    }

    @Override
    public boolean reliable() {
        return transport.capabilities().reliable();
    }

    /** @return the remote endpoint */
    public Endpoint remote() {
        return remote;
    }

    /** @return the transport */
    public Transport transport() {
        return transport;
    }

    @Override
    public String toString() {
        return "TransportPath[" + remote + "]";
    }
}
