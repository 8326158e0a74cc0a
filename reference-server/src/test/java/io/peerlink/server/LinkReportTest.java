package io.peerlink.server;

import io.peerlink.PathKind;
import io.peerlink.protocol.identity.DeviceIdentity;
import io.peerlink.protocol.rendezvous.ErrorCode;
import io.peerlink.protocol.rendezvous.Message;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code link-report} on a real server: bounded, rate-limited, checked against the access policy, bad input answered and survived. */
class LinkReportTest {
    private static final String TOKEN = "link-report-test-operator-token";
    private static final DeviceIdentity A = DeviceIdentity.ephemeral();
    private static final DeviceIdentity B = DeviceIdentity.ephemeral();
    private static final DeviceIdentity OTHER_NETWORK = DeviceIdentity.ephemeral();
    @TempDir
    Path dir;
    private ReferenceServer server;
    private final HttpClient http = HttpClient.newHttpClient();

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    private RawControlClient admitted(DeviceIdentity identity) throws Exception {
        RawControlClient c = new RawControlClient(server.controlUri());
        c.send(RawControlClient.hello(identity, c.challenge.nonce()));
        assertInstanceOf(Message.Welcome.class, c.nextNonPing());
        return c;
    }

    private String links() throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(server.dashboardUri().resolve("snapshot"))
                .header("Authorization", "Bearer " + TOKEN).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode());
        String body = r.body();
        int from = body.indexOf("\"links\":[");
        return body.substring(from, body.indexOf(']', from) + 1);
    }

    private static Message.LinkReport.Link link(DeviceIdentity peer, PathKind kind) {
        return new Message.LinkReport.Link(peer.id(), kind, 1500, 1000, 2000);
    }

    @Test
    void reportsAreCheckedAgainstReachRateLimitedAndReplaced() throws Exception {
        Path allowList = dir.resolve("allow-list");
        Files.writeString(allowList, A.id() + " plant\n" + B.id() + " plant\n" + OTHER_NETWORK.id() + " office\n");
        server = ReferenceServer.start(ServerConfig.builder().bindHost("127.0.0.1").httpPort(0).stunPort(-1).coapPort(-1)
                .allowListFile(allowList).statusToken(TOKEN).build());
        try (RawControlClient a = admitted(A); RawControlClient b = admitted(B); RawControlClient other = admitted(OTHER_NETWORK)) {
            DeviceIdentity unknown = DeviceIdentity.ephemeral();
            a.send(new Message.LinkReport(List.of(link(B, PathKind.RELAY), link(OTHER_NETWORK, PathKind.DIRECT_PUBLIC),
                    link(unknown, PathKind.DIRECT_PUBLIC), link(A, PathKind.DIRECT_PRIVATE))));
            // A presence round trip orders the check after the report.
            a.send(new Message.Presence(1, B.id()));
            assertInstanceOf(Message.PresenceResult.class, a.nextNonPing());
            String links = links();
            assertTrue(links.contains(B.id().value()) && links.contains("RELAY"), links);
            assertFalse(links.contains(OTHER_NETWORK.id().value()), "another network's device is out of reach: " + links);
            assertFalse(links.contains(unknown.id().value()), links);
            assertTrue(links.contains("\"reportedBy\":1"), links);
            // The other end reports the same link: one row, reported by both.
            b.send(new Message.LinkReport(List.of(link(A, PathKind.RELAY))));
            b.send(new Message.Presence(9, A.id()));
            assertInstanceOf(Message.PresenceResult.class, b.nextNonPing());
            links = links();
            assertTrue(links.contains("\"reportedBy\":2"), links);
            assertEquals(links.indexOf(B.id().value()), links.lastIndexOf(B.id().value()), "one row per pair: " + links);

            // Within a second of the last kept report: ignored.
            a.send(new Message.LinkReport(List.of()));
            a.send(new Message.Presence(2, B.id()));
            assertInstanceOf(Message.PresenceResult.class, a.nextNonPing());
            assertTrue(links().contains(B.id().value()), "a report within 1 s is dropped");

            // Bad input is answered, and the connection stays.
            a.send("{\"type\":\"link-report\",\"links\":[{\"peer\":\"" + B.id() + "\",\"path\":\"RELAY\",\"rttMicros\":1,"
                    + "\"bytesSent\":\"many\",\"bytesReceived\":2}]}");
            Message.Error e = assertInstanceOf(Message.Error.class, a.nextNonPing());
            assertEquals(ErrorCode.MALFORMED, e.code());
            a.send("{\"type\":\"link-report\",\"links\":[{\"peer\":\"" + B.id() + "\",\"path\":\"WARP\",\"rttMicros\":1,"
                    + "\"bytesSent\":1,\"bytesReceived\":2}]}");
            assertEquals(ErrorCode.INVALID_FIELD, assertInstanceOf(Message.Error.class, a.nextNonPing()).code());

            // After a second, a new report replaces the old one.
            Thread.sleep(1100);
            a.send(new Message.LinkReport(List.of()));
            a.send(new Message.Presence(3, B.id()));
            assertInstanceOf(Message.PresenceResult.class, a.nextNonPing());
            assertFalse(links().contains("\"reportedBy\":2"), "only B's report remains");
            b.send(new Message.LinkReport(List.of()));
            b.send(new Message.Presence(10, A.id()));
            assertInstanceOf(Message.PresenceResult.class, b.nextNonPing());
            assertEquals("\"links\":[]", links());

            // The device in another network reporting a link to A: dropped as well.
            other.send(new Message.LinkReport(List.of(link(A, PathKind.DIRECT_PRIVATE))));
            other.send(new Message.Presence(4, A.id()));
            assertInstanceOf(Message.PresenceResult.class, other.nextNonPing());
            assertEquals("\"links\":[]", links());
        }
    }
}
