package io.peerlink.core.internal.channel;

import io.peerlink.ChannelClosedException;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;

/**
 * The sending half of a channel: the queues of messages and unreliable datagrams, fragmentation
 * of messages into DATA frames, retransmission of lost fragments, and the flow-control credit the
 * peer granted (MAX_DATA). It writes frames into packets the engine builds and learns from the
 * engine's loss recovery which fragments were acknowledged or lost. Loop-confined.
 *
 * <p>Bounded: messages and datagrams by the {@link SendBuffer}, retransmissions by the fragments
 * of those messages, in-flight message numbers by {@link MessageWindow#SPAN}.
 */
final class Sender {
    private final SendBuffer sendBuffer;
    private final ChannelCounters counters;

    private final ArrayDeque<OutboundMessage> sendQueue = new ArrayDeque<>();
    private final ArrayDeque<OutboundMessage> datagramQueue = new ArrayDeque<>();
    private final ArrayDeque<Fragment> retransmitQueue = new ArrayDeque<>();
    private final ArrayDeque<OutboundMessage> inflightOrdered = new ArrayDeque<>();
    private final ArrayDeque<OutboundMessage> inflightUnordered = new ArrayDeque<>();
    private long nextOrderedNumber;
    private long nextUnorderedNumber;
    private long peerMaxData = ChannelEngine.INITIAL_CREDIT;
    private long creditUsed;

    Sender(SendBuffer sendBuffer, ChannelCounters counters) {
        this.sendBuffer = sendBuffer;
        this.counters = counters;
    }

    void enqueue(OutboundMessage m) {
        if (m.delivery == io.peerlink.Delivery.UNRELIABLE) {
            datagramQueue.add(m);
        } else {
            m.number = m.unordered() ? nextUnorderedNumber++ : nextOrderedNumber++;
            sendQueue.add(m);
        }
    }

    /** @param maxData a MAX_DATA from the peer (cumulative; smaller values are stale) */
    void onMaxData(long maxData) {
        peerMaxData = Math.max(peerMaxData, maxData);
    }

    /** @return true if retransmissions, datagrams or new data could go out now */
    boolean hasWork() {
        return !retransmitQueue.isEmpty() || hasNewWork();
    }

    /** @return true if never-sent data or datagrams could go out now (credit permitting) */
    boolean hasNewWork() {
        if (!datagramQueue.isEmpty()) {
            return true;
        }
        OutboundMessage m = sendQueue.peek();
        return m != null && (m.started || canStart(m));
    }

    /** @return true once everything accepted was sent and acknowledged */
    boolean drained() {
        return sendQueue.isEmpty() && datagramQueue.isEmpty() && inflightOrdered.isEmpty() && inflightUnordered.isEmpty();
    }

    private boolean canStart(OutboundMessage m) {
        if (creditUsed + m.length + ChannelEngine.MESSAGE_OVERHEAD > peerMaxData) {
            return false;
        }
        ArrayDeque<OutboundMessage> inflight = m.unordered() ? inflightUnordered : inflightOrdered;
        OutboundMessage oldest = inflight.peek();
        return oldest == null || m.number < oldest.number + MessageWindow.SPAN;
    }

    /**
     * Writes queued retransmissions, oldest first, while they fit.
     *
     * @param fragmentRoom payload bytes a DATA frame carries in an otherwise empty packet
     */
    boolean writeRetransmissions(ByteBuffer b, SentPacket sp, int fragmentRoom) {
        boolean wrote = false;
        while (!retransmitQueue.isEmpty()) {
            Fragment f = retransmitQueue.peek();
            if (f.acked || f.message.done) {
                retransmitQueue.poll();
                f.queued = false;
                continue;
            }
            OutboundMessage m = f.message;
            int header = FrameCodec.dataHeaderSize(m.number, m.length, f.offset, f.length);
            if (header + f.length > b.remaining()) {
                if (f.length > fragmentRoom) {
                    split(f, fragmentRoom);
                    continue;
                }
                break;
            }
            retransmitQueue.poll();
            f.queued = false;
            f.resent = true;
            FrameCodec.encodeData(b, m.unordered(), m.number, m.length, f.offset, m.data, f.offset, f.length);
            sp.addItem(f);
            counters.retransmittedBytes += f.length;
            wrote = true;
        }
        return wrote;
    }

    /** Splits a fragment that no longer fits the path (smaller MTU after migration). */
    private void split(Fragment f, int room) {
        retransmitQueue.poll();
        f.queued = false;
        int pieces = (f.length + room - 1) / room;
        Fragment[] children = new Fragment[pieces];
        for (int i = 0; i < pieces; i++) {
            int off = f.offset + i * room;
            children[i] = new Fragment(f.message, off, Math.min(room, f.offset + f.length - off));
            // The bytes went out once already, in the piece that no longer fits.
            children[i].resent = f.resent;
        }
        f.children = children;
        f.message.unackedFragments += pieces - 1;
        for (int i = pieces - 1; i >= 0; i--) {
            children[i].queued = true;
            retransmitQueue.addFirst(children[i]);
        }
    }

    /** Cuts new DATA frames from the send queue while they fit and credit allows. */
    boolean writeNewData(ByteBuffer b, SentPacket sp) {
        boolean wrote = false;
        while (true) {
            OutboundMessage m = sendQueue.peek();
            if (m == null) {
                return wrote;
            }
            if (!m.started) {
                if (!canStart(m)) {
                    return wrote;
                }
                m.started = true;
                creditUsed += m.length + ChannelEngine.MESSAGE_OVERHEAD;
                (m.unordered() ? inflightUnordered : inflightOrdered).add(m);
            }
            int rest = m.length - m.nextOffset;
            int header = FrameCodec.dataHeaderSize(m.number, m.length, m.nextOffset, Math.min(rest, b.remaining()));
            int n = Math.min(rest, b.remaining() - header);
            // Rather than a sliver now, the whole next packet: fewer headers per payload byte.
            if (n < 0 || (n < rest && n < 128)) {
                return wrote;
            }
            Fragment f = new Fragment(m, m.nextOffset, n);
            m.unackedFragments++;
            FrameCodec.encodeData(b, m.unordered(), m.number, m.length, m.nextOffset, m.data, m.nextOffset, n);
            m.nextOffset += n;
            sp.addItem(f);
            counters.payloadBytesSent += n;
            wrote = true;
            if (m.nextOffset >= m.length) {
                sendQueue.poll();
            }
        }
    }

    /** Writes queued unreliable datagrams while they fit; they complete once written. */
    boolean writeDatagrams(ByteBuffer b) {
        boolean wrote = false;
        while (!datagramQueue.isEmpty()) {
            OutboundMessage d = datagramQueue.peek();
            if (1 + Varint.size(d.length) + d.length > b.remaining()) {
                break;
            }
            datagramQueue.poll();
            FrameCodec.encodeDatagram(b, d.data, 0, d.length);
            counters.payloadBytesSent += d.length;
            sendBuffer.release(d.reserved);
            d.future.complete(null);
            wrote = true;
        }
        return wrote;
    }

    /** @param f a fragment in a packet declared lost */
    void onLost(Fragment f) {
        if (f.acked || f.queued || f.message.done) {
            return;
        }
        if (f.children != null) {
            for (Fragment c : f.children) {
                onLost(c);
            }
            return;
        }
        f.queued = true;
        retransmitQueue.add(f);
    }

    /** @param f a fragment in a packet declared lost and then acknowledged after all */
    void onAckedAfterLoss(Fragment f) {
        if (f.children != null) {
            for (Fragment c : f.children) {
                onAckedAfterLoss(c);
            }
        } else if (f.resent) {
            counters.spuriousRetransmittedBytes += f.length;
        }
        onAcked(f);
    }

    /** @param f a fragment in an acknowledged packet */
    void onAcked(Fragment f) {
        if (f.acked) {
            return;
        }
        f.acked = true;
        if (f.children != null) {
            for (Fragment c : f.children) {
                onAcked(c);
            }
            return;
        }
        OutboundMessage m = f.message;
        if (--m.unackedFragments == 0 && m.fullySent() && !m.done) {
            m.done = true;
            ArrayDeque<OutboundMessage> inflight = m.unordered() ? inflightUnordered : inflightOrdered;
            while (!inflight.isEmpty() && inflight.peek().done) {
                inflight.poll();
            }
            sendBuffer.release(m.reserved);
            m.future.complete(null);
        }
    }

    /** Fails every message not yet acknowledged and forgets every queue (the channel closed). */
    void failAll(ChannelClosedException failure) {
        failAll(sendQueue, failure);
        failAll(datagramQueue, failure);
        failAll(inflightOrdered, failure);
        failAll(inflightUnordered, failure);
        retransmitQueue.clear();
    }

    private void failAll(ArrayDeque<OutboundMessage> queue, ChannelClosedException failure) {
        for (OutboundMessage m; (m = queue.poll()) != null; ) {
            if (!m.done) {
                m.done = true;
                sendBuffer.release(m.reserved);
                m.future.completeExceptionally(failure);
            }
        }
    }

    @Override
    public String toString() {
        return "sendQueue=" + sendQueue.size() + " retransmit=" + retransmitQueue.size()
                + " inflightMsgs=" + inflightOrdered.size() + " credit=" + creditUsed + "/" + peerMaxData;
    }
}
