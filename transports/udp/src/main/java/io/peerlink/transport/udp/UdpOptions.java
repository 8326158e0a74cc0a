package io.peerlink.transport.udp;

import io.peerlink.spi.TransportConfig;

/**
 * Typed options of the UDP transport, set with
 * {@link TransportConfig.Builder#set(TransportConfig.Option, Object)}.
 */
public final class UdpOptions {

    /**
     * {@code SO_RCVBUF} in bytes. The default is large (4 MiB) because the reliable channel pushes
     * well over 100k datagrams per second on loopback and the kernel drops what does not fit while
     * the receive thread is busy. The kernel may clamp it ({@code net.core.rmem_max}).
     */
    public static final TransportConfig.Option<Integer> RECEIVE_BUFFER_SIZE =
            new TransportConfig.Option<>("udp.receiveBufferSize", Integer.class, 4 * 1024 * 1024);

    /**
     * {@code SO_SNDBUF} in bytes; 4 MiB by default, so bursts are absorbed rather than refused
     * ({@code send} returns false when it is full). The kernel may clamp it ({@code net.core.wmem_max}).
     */
    public static final TransportConfig.Option<Integer> SEND_BUFFER_SIZE =
            new TransportConfig.Option<>("udp.sendBufferSize", Integer.class, 4 * 1024 * 1024);

    /**
     * {@code SO_REUSEADDR}; false by default. Lets a transport re-bind a fixed port that another
     * socket still holds (only useful for tests and restarts on a fixed port).
     */
    public static final TransportConfig.Option<Boolean> REUSE_ADDRESS =
            new TransportConfig.Option<>("udp.reuseAddress", Boolean.class, Boolean.FALSE);

    /**
     * Whether to enable IP TTL control ({@code Transport.send(remote, datagram, ttl)}); true by
     * default, and needs no JVM flag. When false, or when the platform cannot provide it (not Linux
     * or macOS, JNA missing), {@code capabilities().ttlControl()} is false and a TTL send throws
     * {@code UnsupportedOperationException} naming the reason.
     */
    public static final TransportConfig.Option<Boolean> TTL_CONTROL =
            new TransportConfig.Option<>("udp.ttlControl", Boolean.class, Boolean.TRUE);

    /**
     * Whether to batch: {@code sendBatch} hands a batch to the kernel in one {@code sendmmsg} call,
     * with UDP segmentation offload ({@code UDP_SEGMENT}) for runs of equal-sized datagrams where the
     * kernel supports it ({@code capabilities().batchSend()}), and the receive thread tells its
     * handler when a burst of datagrams ends ({@code capabilities().receiveBursts()}, so the core
     * wakes its event loop once per burst). True by default. Batched sending needs 64-bit Linux and
     * JNA; elsewhere {@code batchSend()} is false and one warning per JVM says why. False gives the
     * one-system-call-per-datagram behaviour (the baseline of docs/benchmarks.md).
     */
    public static final TransportConfig.Option<Boolean> BATCHING =
            new TransportConfig.Option<>("udp.batching", Boolean.class, Boolean.TRUE);

    private UdpOptions() {
    }
}
