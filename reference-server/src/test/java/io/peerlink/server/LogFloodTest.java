package io.peerlink.server;

import io.peerlink.protocol.identity.DeviceIdentity;
import io.peerlink.protocol.rendezvous.ErrorCode;
import io.peerlink.protocol.rendezvous.Message;
import io.peerlink.server.log.RateLimitedLogger;
import io.peerlink.server.rendezvous.RendezvousService;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A hostile client cannot flood the server's log: 200 devices refused in a row produce at most one
 * burst of "denied" lines (slf4j-jdk14 routes SLF4J to java.util.logging in these tests), while the
 * metrics count every refusal and a listed device is still admitted.
 */
class LogFloodTest {

    @Test
    void refusalsFromAHostileClientAreRateLimitedInTheLog() throws Exception {
        List<LogRecord> records = new CopyOnWriteArrayList<>();
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord r) {
                if (r.getMessage() != null && r.getMessage().startsWith("denied ")) {
                    records.add(r);
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        Logger jul = Logger.getLogger(RendezvousService.class.getName());
        jul.addHandler(capture);
        int attempts = 200;
        try (ReferenceServer server = ReferenceServer.start(ServerConfig.builder().bindHost("127.0.0.1").httpPort(0).stunPort(-1)
                .coapPort(-1).statusToken("operator-token-0123456789").build())) {
            long start = System.nanoTime();
            for (int i = 0; i < attempts; i++) {
                try (RawControlClient c = new RawControlClient(server.controlUri())) {
                    c.send(RawControlClient.hello(DeviceIdentity.ephemeral(), c.challenge.nonce()));
                    Message m = c.nextNonPing();
                    assertEquals(ErrorCode.DENIED, assertInstanceOf(Message.Error.class, m).code());
                }
            }
            // The budget: one burst, plus what refilled while the flood ran (10 a minute).
            double minutes = (System.nanoTime() - start) / 60e9;
            long budget = RateLimitedLogger.DEFAULT_BURST + (long) Math.ceil(minutes * RateLimitedLogger.DEFAULT_BURST);
            assertTrue(records.size() <= budget, records.size() + " 'denied' lines for " + attempts + " refusals; budget " + budget);
            assertTrue(budget < attempts / 2, "the flood outpaced the budget (" + budget + "), or the test proves nothing");
            assertTrue(records.size() >= 1, "refusals are still logged, up to the budget");
            String metrics = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                            server.httpUri().resolve("/metrics")).header("Authorization", "Bearer operator-token-0123456789").build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString()).body();
            assertTrue(metrics.contains("peerlink_refusals_total{reason=\"DENIED\"} " + attempts + ".0"), metrics);
        } finally {
            jul.removeHandler(capture);
        }
    }
}
