package io.peerlink.server.log;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The limiter writes a burst, then counts, then refills; the next line written reports the count. */
class RateLimitedLoggerTest {
    private static final String NAME = "io.peerlink.test.ratelimit";
    private final List<LogRecord> records = new CopyOnWriteArrayList<>();
    private final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord r) {
            records.add(r);
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };
    private final Logger jul = Logger.getLogger(NAME);

    @BeforeEach
    void capture() {
        jul.addHandler(capture);
    }

    @AfterEach
    void release() {
        jul.removeHandler(capture);
    }

    @Test
    void writesABurstThenCountsAndReportsTheCountWhenItRefills() {
        AtomicLong now = new AtomicLong();
        RateLimitedLogger limited = new RateLimitedLogger(LoggerFactory.getLogger(NAME), 5, Duration.ofSeconds(10), now::get);
        for (int i = 0; i < 1000; i++) {
            limited.warn("hostile input #{}", i);
        }
        assertEquals(5, records.size());
        assertEquals(995, limited.suppressed());
        assertEquals("hostile input #4", records.get(4).getMessage());
        now.addAndGet(Duration.ofSeconds(2).toNanos()); // one token back
        limited.warn("hostile input #{}", 1000);
        assertEquals(6, records.size());
        assertTrue(records.get(5).getMessage().endsWith("[995 similar line(s) suppressed by the log rate limit]"),
                records.get(5).getMessage());
        assertEquals(0, limited.suppressed());
    }
}
