package io.peerlink.bridge;

import io.peerlink.PeerLinks;
import io.peerlink.ResourceBridge;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Registrations in the H2 store survive a restart of the directory; removals do too. */
class PersistentDirectoryTest {

    private static ResourceBridge start(Path db) {
        return PeerLinks.resourceBridge().coap(new InetSocketAddress("127.0.0.1", 0)).storage(db).start()
                .toCompletableFuture().join();
    }

    @Test
    void registrationsSurviveARestart(@TempDir Path dir) throws Exception {
        Path db = dir.resolve("rd");
        String location;
        String before;
        ResourceBridge first = start(db);
        try {
            String base = "coap://127.0.0.1:" + first.endpoint().port();
            LibcoapClient.Response r = LibcoapClient.run("-m", "post", "-t", "40", "-e",
                    "</temp>;rt=\"temperature-c\";ct=50", base + "/rd?ep=keeper&lt=3600&zone=north");
            assertEquals("2.01", r.code(), r.diagnostic());
            location = "/" + String.join("/", r.locationPath());
            assertEquals("2.01", LibcoapClient.run("-m", "post", "-t", "40", "-e", "</x>",
                    base + "/rd?ep=gone&lt=3600").code());
            assertEquals("2.02", LibcoapClient.run("-m", "delete", base + "/rd/2").code());
            before = LibcoapClient.run(base + "/rd-lookup/res?rt=temperature-c").text();
        } finally {
            first.close();
        }

        ResourceBridge second = start(db);
        try {
            String base = "coap://127.0.0.1:" + second.endpoint().port();
            String eps = LibcoapClient.run(base + "/rd-lookup/ep").text();
            assertTrue(eps.startsWith("<" + location + ">;ep=\"keeper\""), eps);
            assertTrue(eps.contains("zone=\"north\"") && !eps.contains("gone"), eps);
            String res = LibcoapClient.run(base + "/rd-lookup/res?rt=temperature-c").text();
            assertEquals(before, res);
            assertTrue(res.endsWith("/temp>;anchor=\"" + res.substring(1, res.indexOf("/temp>"))
                    + "\";rt=\"temperature-c\";ct=50"), res);
            // A new registration does not reuse a stored location.
            LibcoapClient.Response next = LibcoapClient.run("-m", "post", "-t", "40", "-e", "</y>",
                    base + "/rd?ep=newcomer");
            assertTrue(!("/" + String.join("/", next.locationPath())).equals(location));
            assertEquals("2.04", LibcoapClient.run("-m", "post", base + location + "?lt=60").code());
        } finally {
            second.close();
        }
    }
}
