package io.peerlink.transport.coap;

import io.peerlink.spi.Transport;
import io.peerlink.spi.TransportConfig;
import io.peerlink.spi.TransportProvider;

import org.eclipse.californium.elements.UDPConnector;
import org.eclipse.californium.elements.config.Configuration;
import org.eclipse.californium.elements.config.UdpConfig;

import java.util.List;
import java.util.Objects;

/**
 * The {@code coap} scheme: PeerLink datagrams as non-confirmable CoAP POSTs over UDP
 * ({@code coap://192.0.2.7:5683/pl}).
 */
public final class CoapTransportProvider implements TransportProvider {
    /** For {@link java.util.ServiceLoader}. */
    public CoapTransportProvider() {
    }

    /** @return the {@link CoapOptions} a plain {@code coap} transport reads (no PSK) */
    @Override
    public List<TransportConfig.Option<?>> options() {
        return List.of(CoapOptions.RESOURCE, CoapOptions.MAX_DATAGRAM_SIZE, CoapOptions.SEND_QUEUE);
    }

    @Override
    public String scheme() {
        return "coap";
    }

    @Override
    public Transport create(TransportConfig config) {
        Objects.requireNonNull(config, "config");
        if (!config.bindEndpoint().scheme().equals("coap")) {
            throw new IllegalArgumentException("not a coap endpoint: " + config.bindEndpoint());
        }
        Configuration californium = udpConfiguration(config.get(CoapOptions.MAX_DATAGRAM_SIZE));
        return new CoapTransport("coap", config, address -> new UDPConnector(address, californium));
    }

    static Configuration udpConfiguration(int maxDatagram) {
        UdpConfig.register();
        Configuration c = Configuration.createStandardWithoutFile();
        // Room for the CoAP header and options on top of the largest payload.
        c.set(UdpConfig.UDP_DATAGRAM_SIZE, maxDatagram + 64);
        // One receiver thread: the handler is called from one thread at a time, in arrival order.
        c.set(UdpConfig.UDP_RECEIVER_THREAD_COUNT, 1);
        c.set(UdpConfig.UDP_SENDER_THREAD_COUNT, 1);
        return c;
    }
}
