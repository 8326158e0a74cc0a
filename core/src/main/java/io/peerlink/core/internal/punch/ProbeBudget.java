package io.peerlink.core.internal.punch;

import java.net.InetAddress;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * How many connectivity-check datagrams (probes, openers, ACKs) one device may send, shared by all
 * its checks (docs/protocol-punching.md, "Budgets"). Candidates are chosen by the peer, so every
 * probe is a datagram the peer aims; the budget bounds what any one address can receive from this
 * device however many introductions point at it: a token bucket per destination IP address
 * ({@value #PER_ADDRESS_BURST} at once, {@value #PER_ADDRESS_PER_SECOND} per second after that)
 * and one for the whole device ({@value #TOTAL_BURST}, {@value #TOTAL_PER_SECOND} per second). A
 * datagram refused by the budget is simply not sent; the check's next round tries again.
 * Confined to the event loop.
 */
public final class ProbeBudget {

    /** Datagrams one destination address may receive at once. */
    public static final int PER_ADDRESS_BURST = 64;
    /** Datagrams per second one destination address may receive once the burst is used. */
    public static final int PER_ADDRESS_PER_SECOND = 32;
    /** Datagrams the device may send at once, all destinations together. */
    public static final int TOTAL_BURST = 512;
    /** Datagrams per second the device may send once the burst is used. */
    public static final int TOTAL_PER_SECOND = 256;
    /** Destination buckets kept; full buckets are forgotten first. */
    private static final int MAX_TRACKED_ADDRESSES = 4096;

    private final LongSupplier clock;
    private final Bucket total;
    private final Map<InetAddress, Bucket> perAddress = new HashMap<>();
    private long refused;

    /** @param clock monotonic nanoseconds (the event loop's clock) */
    public ProbeBudget(LongSupplier clock) {
        this.clock = clock;
        this.total = new Bucket(TOTAL_BURST, clock.getAsLong());
    }

    /**
     * Takes one datagram from the budgets of the destination and the device.
     *
     * @param destination where the datagram would go
     * @return true if it may be sent
     */
    public boolean tryAcquire(InetAddress destination) {
        long now = clock.getAsLong();
        Bucket b = perAddress.get(destination);
        if (b == null) {
            if (perAddress.size() >= MAX_TRACKED_ADDRESSES) {
                forgetFullBuckets(now);
            }
            if (perAddress.size() >= MAX_TRACKED_ADDRESSES) {
                refused++;
                return false; // thousands of addresses probed within seconds: that is a flood
            }
            b = new Bucket(PER_ADDRESS_BURST, now);
            perAddress.put(destination, b);
        }
        b.refill(now, PER_ADDRESS_BURST, PER_ADDRESS_PER_SECOND);
        total.refill(now, TOTAL_BURST, TOTAL_PER_SECOND);
        if (b.tokens < 1 || total.tokens < 1) {
            refused++;
            return false;
        }
        b.tokens--;
        total.tokens--;
        return true;
    }

    /** @return datagrams refused so far */
    public long refused() {
        return refused;
    }

    private void forgetFullBuckets(long now) {
        for (Iterator<Bucket> it = perAddress.values().iterator(); it.hasNext(); ) {
            Bucket b = it.next();
            b.refill(now, PER_ADDRESS_BURST, PER_ADDRESS_PER_SECOND);
            if (b.tokens >= PER_ADDRESS_BURST) {
                it.remove();
            }
        }
    }

    private static final class Bucket {
        double tokens;
        long at;

        Bucket(int burst, long now) {
            tokens = burst;
            at = now;
        }

        void refill(long now, int burst, int perSecond) {
            long elapsed = now - at;
            if (elapsed > 0) {
                tokens = Math.min(burst, tokens + elapsed * (perSecond / 1e9));
                at = now;
            }
        }
    }
}
