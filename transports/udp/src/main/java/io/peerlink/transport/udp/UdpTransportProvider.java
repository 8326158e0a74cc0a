package io.peerlink.transport.udp;

import io.peerlink.Endpoint;
import io.peerlink.spi.Transport;
import io.peerlink.spi.TransportConfig;
import io.peerlink.spi.TransportProvider;

import java.net.InetAddress;
import java.util.List;
import java.util.Objects;

/**
 * Creates UDP transports for endpoints of the scheme {@code udp}. The bind endpoint's host must
 * be an IP literal ({@code udp://0.0.0.0:0}, {@code udp://127.0.0.1:40000},
 * {@code udp://[::]:0}); an IPv4 bind address makes an IPv4 socket, an IPv6 one a dual-stack
 * IPv6 socket. Options are in {@link UdpOptions}.
 */
public final class UdpTransportProvider implements TransportProvider {

    /** The scheme this provider serves. */
    public static final String SCHEME = "udp";

    /** Creates the provider; {@link java.util.ServiceLoader} calls this. */
    public UdpTransportProvider() {
    }

    /** @return every {@link UdpOptions} option */
    @Override
    public List<TransportConfig.Option<?>> options() {
        return List.of(UdpOptions.RECEIVE_BUFFER_SIZE, UdpOptions.SEND_BUFFER_SIZE, UdpOptions.REUSE_ADDRESS, UdpOptions.TTL_CONTROL,
                UdpOptions.BATCHING);
    }

    @Override
    public String scheme() {
        return SCHEME;
    }

    /**
     * @throws IllegalArgumentException if the bind endpoint is not {@code udp}, its host is not an
     *         IP literal, it has a path, or a buffer size option is not positive
     */
    @Override
    public Transport create(TransportConfig config) {
        Objects.requireNonNull(config, "config");
        Endpoint bind = config.bindEndpoint();
        if (!SCHEME.equals(bind.scheme())) {
            throw new IllegalArgumentException("UDP transport needs a udp:// bind endpoint, got " + bind);
        }
        if (!bind.path().isEmpty()) {
            throw new IllegalArgumentException("a udp bind endpoint has no path: " + bind);
        }
        InetAddress address = IpLiteral.parse(bind.host());
        if (address == null) {
            throw new IllegalArgumentException("the host of a udp bind endpoint must be an IP literal, got '" + bind.host() + "'");
        }
        int receiveBuffer = positive(config, UdpOptions.RECEIVE_BUFFER_SIZE);
        int sendBuffer = positive(config, UdpOptions.SEND_BUFFER_SIZE);
        return new UdpTransport(bind, address, receiveBuffer, sendBuffer,
                config.get(UdpOptions.REUSE_ADDRESS), config.get(UdpOptions.TTL_CONTROL),
                config.get(UdpOptions.BATCHING));
    }

    private static int positive(TransportConfig config, TransportConfig.Option<Integer> option) {
        int value = config.get(option);
        if (value <= 0) {
            throw new IllegalArgumentException(option.name() + " must be positive: " + value);
        }
        return value;
    }
}
