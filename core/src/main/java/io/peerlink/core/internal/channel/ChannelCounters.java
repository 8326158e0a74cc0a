package io.peerlink.core.internal.channel;

import io.peerlink.ChannelStats;

import java.time.Duration;

/**
 * The counters of one channel, written by the engine, its {@link Sender} and its {@link Receiver}
 * on the loop thread. Plain fields: read on the loop they are exact, read elsewhere each value is
 * a recent one.
 */
final class ChannelCounters {
    long datagramsSent;
    long datagramsReceived;
    long bytesSent;
    long bytesReceived;
    long payloadBytesSent;
    long payloadBytesDelivered;
    long retransmittedBytes;
    long spuriousRetransmittedBytes;
    long ackBytesSent;
    long corruptDropped;
    long probeTimeouts;
    long timerRuns;
    long pacingStalls;
    long cwndStalls;
    /** Datagrams the path refused (back-pressure) and the channel held to send again. */
    long backPressureStalls;

    ChannelStats snapshot(SentPacketTracker tracker) {
        return new ChannelStats(datagramsSent, datagramsReceived, bytesSent, bytesReceived, payloadBytesSent,
                payloadBytesDelivered, retransmittedBytes, ackBytesSent, tracker.packetsLost(),
                Duration.ofNanos(tracker.smoothedRtt()), Duration.ofNanos(tracker.rttVariation()),
                tracker.congestionWindow(), tracker.bytesInFlight(), spuriousRetransmittedBytes);
    }
}
