package io.peerlink.core.internal.punch;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The token buckets, on a clock the test moves. */
class ProbeBudgetTest {

    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final ProbeBudget budget = new ProbeBudget(now::get);

    private int take(InetAddress to, int attempts) {
        int granted = 0;
        for (int i = 0; i < attempts; i++) {
            if (budget.tryAcquire(to)) {
                granted++;
            }
        }
        return granted;
    }

    @Test
    void oneAddressGetsItsBurstThenItsRate() throws Exception {
        InetAddress victim = InetAddress.getByName("192.0.2.9");
        assertEquals(ProbeBudget.PER_ADDRESS_BURST, take(victim, 1000));
        now.addAndGet(1_000_000_000L);
        assertEquals(ProbeBudget.PER_ADDRESS_PER_SECOND, take(victim, 1000));
        now.addAndGet(10_000_000_000L);
        assertEquals(ProbeBudget.PER_ADDRESS_BURST, take(victim, 1000), "the bucket refills up to the burst, no further");
        assertEquals(1000 + 1000 + 1000 - 2 * ProbeBudget.PER_ADDRESS_BURST - ProbeBudget.PER_ADDRESS_PER_SECOND, budget.refused());
    }

    @Test
    void otherAddressesKeepTheirOwnBudgetUntilTheDeviceTotalIsUsed() throws Exception {
        InetAddress victim = InetAddress.getByName("192.0.2.9");
        take(victim, 1000);
        assertFalse(budget.tryAcquire(victim));
        assertTrue(budget.tryAcquire(InetAddress.getByName("192.0.2.10")), "another address is not starved by the victim");
        int granted = 0;
        for (int i = 0; i < 40; i++) {
            granted += take(InetAddress.getByName("198.51.100." + i), 100);
        }
        assertEquals(ProbeBudget.TOTAL_BURST - ProbeBudget.PER_ADDRESS_BURST - 1, granted, "the device total bounds all addresses together");
    }
}
