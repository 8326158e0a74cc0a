package com.example.peerlink.tcpframed;

import io.peerlink.spi.Transport;
import io.peerlink.spi.TransportConfig;
import io.peerlink.spi.TransportProvider;

import java.util.Objects;

/**
 * Creates {@code tcpf://} transports: length-prefixed datagrams over TCP. Bind endpoint
 * {@code tcpf://<IPv4 literal>:<port>}, port 0 for an ephemeral one. Registered in
 * {@code META-INF/services/io.peerlink.spi.TransportProvider}.
 */
public final class TcpFramedTransportProvider implements TransportProvider {

    /** Found by {@link java.util.ServiceLoader}. */
    public TcpFramedTransportProvider() {
    }

    @Override
    public String scheme() {
        return TcpFramedTransport.SCHEME;
    }

    @Override
    public Transport create(TransportConfig config) {
        Objects.requireNonNull(config, "config");
        return new TcpFramedTransport(config.bindEndpoint());
    }
}
