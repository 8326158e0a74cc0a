package io.peerlink.transport.mqtt;

import java.util.Objects;

/**
 * The topic layout: a datagram from device S to device R travels on {@code <prefix>/R/S}. R
 * subscribes to {@code <prefix>/R/+}, so a broker ACL can give each device read access to its own
 * inbox and write access to the sender level that names it (docs/transports.md). Device topic IDs
 * are 1..{@value #MAX_ID_LENGTH} characters of {@code [A-Za-z0-9_-]}: one topic level, no
 * wildcard, safe in a URI path and in Mosquitto's {@code %u}/{@code %c} ACL patterns. PeerLink's
 * device IDs (52 characters of lowercase base32) qualify.
 */
final class InboxTopics {

    static final int MAX_ID_LENGTH = 128;
    static final int MAX_PREFIX_LENGTH = 512;

    private final String prefix;
    private final String self;
    /** {@code <prefix>/<self>/}: what every topic of our inbox starts with. */
    private final String inboxHead;

    /**
     * @throws IllegalArgumentException if the prefix or the ID is not valid
     */
    InboxTopics(String prefix, String self) {
        this.prefix = checkPrefix(prefix);
        this.self = checkId(self, "device topic ID");
        this.inboxHead = prefix + "/" + self + "/";
    }

    /** @return the subscription of this device's inbox */
    String inboxFilter() {
        return inboxHead + "+";
    }

    /** @return the topic on which this device sends to {@code recipient} (already validated) */
    String topicTo(String recipient) {
        return prefix + "/" + recipient + "/" + self;
    }

    /** @return the bytes a topic to any recipient adds to a PUBLISH at most (2-byte length + UTF-8) */
    int maxTopicBytes() {
        return 2 + prefix.length() + 1 + MAX_ID_LENGTH + 1 + self.length();
    }

    /**
     * @param topic a topic the broker delivered
     * @return the sender's device topic ID
     * @throws MalformedTopicException if it is not {@code <prefix>/<self>/<valid id>}
     */
    String senderOf(String topic) throws MalformedTopicException {
        Objects.requireNonNull(topic, "topic");
        if (!topic.startsWith(inboxHead)) {
            throw new MalformedTopicException("topic '" + abbreviate(topic) + "' is not in this device's inbox " + inboxFilter());
        }
        String sender = topic.substring(inboxHead.length());
        String problem = idProblem(sender);
        if (problem != null) {
            throw new MalformedTopicException("topic '" + abbreviate(topic) + "' has an invalid sender level: " + problem);
        }
        return sender;
    }

    /** @return null if {@code id} is a valid device topic ID, else what is wrong with it */
    static String idProblem(String id) {
        if (id.isEmpty()) {
            return "it is empty";
        }
        if (id.length() > MAX_ID_LENGTH) {
            return "it has " + id.length() + " characters, more than " + MAX_ID_LENGTH;
        }
        for (int i = 0; i < id.length(); i++) {
            char c = id.charAt(i);
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) {
                return "character " + i + " (U+" + String.format("%04X", (int) c) + ") is not one of [A-Za-z0-9_-]";
            }
        }
        return null;
    }

    /** @throws IllegalArgumentException naming what is wrong */
    static String checkId(String id, String what) {
        Objects.requireNonNull(id, what);
        String problem = idProblem(id);
        if (problem != null) {
            throw new IllegalArgumentException("invalid " + what + " '" + abbreviate(id) + "': " + problem);
        }
        return id;
    }

    /** @throws IllegalArgumentException naming what is wrong */
    static String checkPrefix(String prefix) {
        Objects.requireNonNull(prefix, "prefix");
        String problem = null;
        if (prefix.isEmpty()) {
            problem = "it is empty";
        } else if (prefix.length() > MAX_PREFIX_LENGTH) {
            problem = "it is longer than " + MAX_PREFIX_LENGTH + " characters";
        } else if (prefix.startsWith("$")) {
            problem = "topics starting with '$' are reserved for the broker";
        } else {
            for (String level : prefix.split("/", -1)) {
                if (level.isEmpty()) {
                    problem = "it has an empty level";
                    break;
                }
            }
            for (int i = 0; problem == null && i < prefix.length(); i++) {
                char c = prefix.charAt(i);
                if (c == '+' || c == '#') {
                    problem = "it contains the wildcard '" + c + "'";
                } else if (c == 0 || Character.isISOControl(c) || Character.isSurrogate(c)) {
                    problem = "character " + i + " is a control character or a lone surrogate";
                }
            }
        }
        if (problem != null) {
            throw new IllegalArgumentException("invalid " + MqttOptions.TOPIC_PREFIX.name() + " '" + abbreviate(prefix) + "': " + problem);
        }
        return prefix;
    }

    /** Keeps hostile topics from flooding logs and exception messages. */
    static String abbreviate(String s) {
        StringBuilder b = new StringBuilder(Math.min(s.length(), 80));
        for (int i = 0; i < s.length() && i < 64; i++) {
            char c = s.charAt(i);
            b.append(Character.isISOControl(c) ? '?' : c);
        }
        if (s.length() > 64) {
            b.append("...(").append(s.length()).append(" chars)");
        }
        return b.toString();
    }
}
