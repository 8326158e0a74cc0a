package io.peerlink.transport.mqtt;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The inbox topic codec accepts exactly the documented layout and rejects everything else precisely. */
class InboxTopicsTest {

    private static final Pattern VALID_ID = Pattern.compile("[A-Za-z0-9_-]{1,128}");
    private final InboxTopics topics = new InboxTopics("peerlink/in", "me");

    @Provide
    Arbitrary<String> ids() {
        return Arbitraries.strings().withCharRange('a', 'z').withCharRange('A', 'Z').withCharRange('0', '9').withChars('_', '-')
                .ofMinLength(1).ofMaxLength(128);
    }

    @Provide
    Arbitrary<String> hostileLevels() {
        return Arbitraries.oneOf(
                Arbitraries.strings().all().ofMaxLength(300),
                Arbitraries.strings().withChars('/', '+', '#', '$', '.', ' ', '\u0000', 'a', '\uD800', '\u00e9').ofMaxLength(20));
    }

    @Property
    void aSendersTopicYieldsThatSender(@ForAll("ids") String sender) throws Exception {
        InboxTopics senderSide = new InboxTopics("peerlink/in", sender);
        assertEquals(sender, topics.senderOf(senderSide.topicTo("me")));
    }

    @Property(tries = 2_000)
    void anyTopicEitherNamesAValidSenderOrIsRejectedPrecisely(@ForAll("hostileLevels") String level, @ForAll boolean underOurInbox) {
        String topic = (underOurInbox ? "peerlink/in/me/" : "") + level;
        try {
            String sender = topics.senderOf(topic);
            assertTrue(VALID_ID.matcher(sender).matches(), sender);
            assertEquals("peerlink/in/me/" + sender, topic);
        } catch (MalformedTopicException e) {
            assertTrue(e.getMessage().startsWith("topic '"), e.getMessage());
            assertTrue(e.getMessage().length() < 400, "messages stay short whatever the topic: " + e.getMessage().length());
        }
    }

    @Property(tries = 2_000)
    void idProblemIsNullExactlyForTheDocumentedAlphabet(@ForAll("hostileLevels") String id) {
        assertEquals(VALID_ID.matcher(id).matches(), InboxTopics.idProblem(id) == null, id);
    }

    @Property(tries = 1_000)
    void prefixCheckEitherAcceptsOrNamesTheProblem(@ForAll("hostileLevels") String prefix) {
        try {
            assertEquals(prefix, InboxTopics.checkPrefix(prefix));
            assertTrue(!prefix.isEmpty() && !prefix.startsWith("$") && !prefix.contains("+") && !prefix.contains("#")
                    && !prefix.contains("//") && !prefix.startsWith("/") && !prefix.endsWith("/"), prefix);
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage().startsWith("invalid mqtt.topicPrefix"), e.getMessage());
        }
    }

    @Example
    void examples() throws Exception {
        assertEquals("peerlink/in/me/+", topics.inboxFilter());
        assertEquals("peerlink/in/you/me", topics.topicTo("you"));
        assertEquals("alice", topics.senderOf("peerlink/in/me/alice"));
        assertThrows(MalformedTopicException.class, () -> topics.senderOf("peerlink/in/me/"));
        assertThrows(MalformedTopicException.class, () -> topics.senderOf("peerlink/in/me/a/b"));
        assertThrows(MalformedTopicException.class, () -> topics.senderOf("peerlink/in/mine/alice"));
        assertThrows(MalformedTopicException.class, () -> topics.senderOf("peerlink/in/me/al.ice"));
        assertNull(InboxTopics.idProblem("abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrst")); // a PeerLink DeviceId
        assertEquals("it is empty", InboxTopics.idProblem(""));
        assertEquals("character 1 (U+002B) is not one of [A-Za-z0-9_-]", InboxTopics.idProblem("a+"));
    }
}
