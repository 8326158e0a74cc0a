package io.peerlink.relay.turn;

import io.peerlink.spi.TransportConfig;

/**
 * Options of the {@code turn} transport. The bind endpoint names the TURN server
 * ({@code turn://<server-ip>:<port>}); credentials come either from {@link #SECRET} and
 * {@link #DEVICE_ID} (minted at start, valid one hour) or from {@link #USERNAME} and {@link #PASSWORD}.
 */
public final class TurnOptions {
    /** Leg to the server: {@code udp}, {@code tcp} or {@code tls}. */
    public static final TransportConfig.Option<String> LEG = new TransportConfig.Option<>("turn.leg", String.class, "udp");
    /** REST API shared secret; when set, credentials are minted from it and {@link #DEVICE_ID}. */
    public static final TransportConfig.Option<String> SECRET = new TransportConfig.Option<>("turn.secret", String.class, "");
    /** Device ID for minted credentials. */
    public static final TransportConfig.Option<String> DEVICE_ID = new TransportConfig.Option<>("turn.deviceId", String.class, "peerlink");
    /** Long-term username (when {@link #SECRET} is empty). */
    public static final TransportConfig.Option<String> USERNAME = new TransportConfig.Option<>("turn.username", String.class, "");
    /** Long-term password (when {@link #SECRET} is empty). */
    public static final TransportConfig.Option<String> PASSWORD = new TransportConfig.Option<>("turn.password", String.class, "");
    /**
     * Comma-separated peer IPs to permit at start: the peers the rendezvous introduced. A TURN
     * relay drops datagrams from peers without a permission; sending to a new peer also
     * requests one, in the background.
     */
    public static final TransportConfig.Option<String> PERMIT = new TransportConfig.Option<>("turn.permit", String.class, "");
    /**
     * Also permit the IP of the allocation's own relayed address, right after allocating (in the
     * background, like the permission a first send requests): the peers that allocated on the same
     * relay, whose relayed addresses share that IP. Their first datagrams — and the transport's
     * own first sends to them — then pass the relay instead of being dropped while the permission
     * a first send requests is still on its way. Default false.
     */
    public static final TransportConfig.Option<Boolean> PERMIT_RELAYED =
            new TransportConfig.Option<>("turn.permitRelayed", Boolean.class, false);

    /**
     * How often the transport refreshes its allocation to learn whether the server still has it
     * (a restarted server answers 437), in milliseconds; default 5,000, at least 100. An ICMP port
     * unreachable or a closed TCP/TLS leg triggers the check at once.
     */
    public static final TransportConfig.Option<Long> CHECK_INTERVAL_MILLIS =
            new TransportConfig.Option<>("turn.checkIntervalMillis", Long.class, 5_000L);
    /**
     * How long the transport keeps trying to get a new allocation after losing its own, in
     * milliseconds, before it stops and reports a transport failure (a link then falls back to
     * another validated path); default 15,000.
     */
    public static final TransportConfig.Option<Long> REALLOCATE_TIMEOUT_MILLIS =
            new TransportConfig.Option<>("turn.reallocateTimeoutMillis", Long.class, 15_000L);

    /**
     * Batched system calls on a UDP leg: the datagrams the core hands over together
     * ({@code Transport.sendBatch}) leave as ChannelData frames in one {@code sendmmsg} with UDP
     * segmentation offload, and the leg receives with {@code UDP_GRO}, as the UDP transport does
     * with {@code udp.batching} (docs/relay.md). True by default; needs 64-bit Linux and JNA,
     * elsewhere {@code capabilities().batchSend()} is false and one warning per JVM says why. False
     * gives one system call per datagram (the baseline of docs/benchmarks.md). No effect on TCP/TLS legs.
     */
    public static final TransportConfig.Option<Boolean> BATCHING =
            new TransportConfig.Option<>("turn.batching", Boolean.class, Boolean.TRUE);

    private TurnOptions() {
    }
}
