package io.peerlink.transport.coap;

import io.peerlink.spi.TransportConfig;

/** Options of the CoAP transport ({@code coap} and {@code coaps} schemes). */
public final class CoapOptions {
    private CoapOptions() {
    }

    /** The resource PeerLink datagrams are POSTed to, one path segment; default {@code pl}. */
    public static final TransportConfig.Option<String> RESOURCE =
            new TransportConfig.Option<>("coap.resource", String.class, "pl");

    /**
     * Largest PeerLink datagram, i.e. CoAP payload, in bytes; default 1,024 (one CoAP block, so a
     * message fits the 1,152-byte datagrams RFC 7252 section 4.6 recommends), at most 60,000.
     */
    public static final TransportConfig.Option<Integer> MAX_DATAGRAM_SIZE =
            new TransportConfig.Option<>("coap.maxDatagramSize", Integer.class, 1024);

    /** Datagrams handed to the socket but not yet sent before {@code send} returns false; default 4,096. */
    public static final TransportConfig.Option<Integer> SEND_QUEUE =
            new TransportConfig.Option<>("coap.sendQueue", Integer.class, 4096);

    /** coaps only: the DTLS pre-shared key identity (required for coaps). */
    public static final TransportConfig.Option<String> PSK_IDENTITY =
            new TransportConfig.Option<>("coap.pskIdentity", String.class, "");

    /** coaps only: the DTLS pre-shared key, at least 16 bytes of UTF-8 (required for coaps). */
    public static final TransportConfig.Option<String> PSK_SECRET =
            new TransportConfig.Option<>("coap.pskSecret", String.class, "");
}
