package io.peerlink.testkit;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The ACL the tests and benchmarks give Mosquitto is the one the documentation prints. */
class MosquittoAclTest {
    private static final Path DOCS = Path.of(System.getProperty("user.dir")).getParent().resolve("docs");

    /** The first fenced block after {@code marker} in {@code file}, without comment lines. */
    private static String block(String file, String marker) throws IOException {
        String text = Files.readString(DOCS.resolve(file));
        int at = text.indexOf(marker);
        if (at < 0) {
            throw new AssertionError("'" + marker + "' is no longer in docs/" + file);
        }
        int start = text.indexOf("```\n", at) + 4;
        int end = text.indexOf("```", start);
        return text.substring(start, end).lines().filter(l -> !l.startsWith("#")).map(l -> l + "\n").collect(Collectors.joining());
    }

    @Test
    void rendezvousAclIsTheDocumentedOneIncludingTheStatusTopic() throws IOException {
        assertEquals(block("protocol-rendezvous.md", "**Broker ACLs.**"), MosquittoAcl.inboxes().rendezvous("rendezvous").build());
    }

    @Test
    void inboxAclIsTheDocumentedOne() throws IOException {
        assertEquals(block("transports.md", "give Mosquitto this `acl_file`"), MosquittoAcl.inboxes().build());
    }

    @Test
    void grantsFollowTheDocumentedRulesAndTheStatusReadCanBePerUser() {
        assertEquals("""
                pattern read peerlink/in/%u/+
                pattern write peerlink/in/+/%u
                pattern write peerlink/rv/%u/up
                pattern read peerlink/rv/%u/down
                user rv
                topic read peerlink/rv/+/up
                topic write peerlink/rv/+/down
                topic write peerlink/rv/server
                user alice
                topic read peerlink/rv/server
                user admin
                topic read #
                """, MosquittoAcl.inboxes().rendezvous("rv").withoutStatusForDevices()
                .read("alice", MosquittoAcl.STATUS_TOPIC).read("admin", "#").build());
        assertThrows(IllegalStateException.class, () -> MosquittoAcl.inboxes().rendezvous("rv").read("rv", "#").build());
    }
}
