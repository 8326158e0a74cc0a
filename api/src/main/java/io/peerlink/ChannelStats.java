package io.peerlink;

import java.time.Duration;

/**
 * A snapshot of a channel's counters. Byte counts are link-layer datagram bytes (what the
 * channel handed to the transport), excluding IP/UDP headers.
 *
 * @param datagramsSent datagrams handed to the transport
 * @param datagramsReceived datagrams accepted from the transport
 * @param bytesSent all link bytes sent, headers included
 * @param bytesReceived all link bytes received
 * @param payloadBytesSent message bytes sent for the first time
 * @param payloadBytesDelivered message bytes delivered to the handler
 * @param retransmittedBytes message bytes sent again after a loss
 * @param ackBytesSent bytes of datagrams that carried only acknowledgements
 * @param packetsLost packets declared lost
 * @param smoothedRtt smoothed round-trip time
 * @param rttVariation round-trip time variation
 * @param congestionWindow congestion window in bytes
 * @param bytesInFlight bytes sent and neither acknowledged nor declared lost
 * @param spuriousRetransmittedBytes message bytes sent again that turned out to have arrived
 *        the first time (the original packet was acknowledged after it had been declared lost);
 *        included in {@code retransmittedBytes}
 */
public record ChannelStats(long datagramsSent, long datagramsReceived, long bytesSent, long bytesReceived,
                           long payloadBytesSent, long payloadBytesDelivered, long retransmittedBytes,
                           long ackBytesSent, long packetsLost, Duration smoothedRtt, Duration rttVariation,
                           long congestionWindow, long bytesInFlight, long spuriousRetransmittedBytes) {
}
