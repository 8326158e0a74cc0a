package io.peerlink.transport.coap;

import io.peerlink.spi.Transport;
import io.peerlink.spi.TransportConfig;
import io.peerlink.spi.TransportProvider;

import org.eclipse.californium.elements.config.Configuration;
import org.eclipse.californium.scandium.DTLSConnector;
import org.eclipse.californium.scandium.config.DtlsConfig;
import org.eclipse.californium.scandium.config.DtlsConnectorConfig;
import org.eclipse.californium.scandium.dtls.pskstore.AdvancedSinglePskStore;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Objects;

/**
 * The {@code coaps} scheme: the same CoAP messages inside DTLS 1.2 (Californium's Scandium) with a
 * pre-shared key ({@link CoapOptions#PSK_IDENTITY}, {@link CoapOptions#PSK_SECRET}). The DTLS
 * session protects the path; PeerLink's own handshake still authenticates the peer.
 */
public final class CoapsTransportProvider implements TransportProvider {
    /** For {@link java.util.ServiceLoader}. */
    public CoapsTransportProvider() {
    }

    /** @return every {@link CoapOptions} option */
    @Override
    public List<TransportConfig.Option<?>> options() {
        return List.of(CoapOptions.RESOURCE, CoapOptions.MAX_DATAGRAM_SIZE, CoapOptions.SEND_QUEUE,
                CoapOptions.PSK_IDENTITY, CoapOptions.PSK_SECRET);
    }

    @Override
    public String scheme() {
        return "coaps";
    }

    @Override
    public Transport create(TransportConfig config) {
        Objects.requireNonNull(config, "config");
        if (!config.bindEndpoint().scheme().equals("coaps")) {
            throw new IllegalArgumentException("not a coaps endpoint: " + config.bindEndpoint());
        }
        String identity = config.get(CoapOptions.PSK_IDENTITY);
        byte[] secret = config.get(CoapOptions.PSK_SECRET).getBytes(StandardCharsets.UTF_8);
        if (identity.isEmpty() || secret.length < 16) {
            throw new IllegalArgumentException("coaps needs coap.pskIdentity and a coap.pskSecret of at least 16 bytes");
        }
        DtlsConfig.register();
        Configuration californium = CoapTransportProvider.udpConfiguration(config.get(CoapOptions.MAX_DATAGRAM_SIZE));
        californium.set(DtlsConfig.DTLS_RECEIVER_THREAD_COUNT, 1);
        californium.set(DtlsConfig.DTLS_CONNECTOR_THREAD_COUNT, 1);
        californium.set(DtlsConfig.DTLS_MAX_TRANSMISSION_UNIT, config.get(CoapOptions.MAX_DATAGRAM_SIZE) + 128);
        return new CoapTransport("coaps", config, address -> new DTLSConnector(DtlsConnectorConfig.builder(californium)
                .setAddress(address)
                .setAdvancedPskStore(new AdvancedSinglePskStore(identity, secret))
                .build()));
    }
}
