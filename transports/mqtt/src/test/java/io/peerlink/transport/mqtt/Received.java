package io.peerlink.transport.mqtt;

import io.peerlink.Endpoint;
import io.peerlink.spi.DatagramHandler;
import io.peerlink.spi.ReceiveContext;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A handler that queues what arrives, for tests. */
final class Received implements DatagramHandler {

    record Datagram(Endpoint source, byte[] bytes, ReceiveContext context) {
    }

    final BlockingQueue<Datagram> queue = new LinkedBlockingQueue<>();
    final BlockingQueue<Throwable> failures = new LinkedBlockingQueue<>();

    @Override
    public void onDatagram(Endpoint source, ByteBuffer datagram) {
        onDatagram(source, datagram, ReceiveContext.NONE);
    }

    @Override
    public void onDatagram(Endpoint source, ByteBuffer datagram, ReceiveContext context) {
        byte[] bytes = new byte[datagram.remaining()];
        datagram.get(bytes);
        queue.add(new Datagram(source, bytes, context));
    }

    @Override
    public void onTransportFailure(Throwable failure) {
        failures.add(failure);
    }

    Datagram poll(Duration timeout) throws InterruptedException {
        return queue.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }
}
