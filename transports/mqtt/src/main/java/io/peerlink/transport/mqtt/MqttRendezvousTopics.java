package io.peerlink.transport.mqtt;

import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * The rendezvous control protocol over MQTT (docs/protocol-rendezvous.md, "The MQTT carrier"):
 * one pair of topics per device, QoS 1, that the broker's ACL reserves to that device.
 *
 * <pre>
 * peerlink/rv/&lt;device ID&gt;/up      device -&gt; server   "open &lt;tag&gt;" | one JSON rendezvous message | "close &lt;tag&gt;"
 * peerlink/rv/&lt;device ID&gt;/down    server -&gt; device   "open &lt;tag&gt;" | one JSON rendezvous message | "close &lt;code&gt; &lt;reason&gt;"
 * peerlink/rv/server                server -&gt; devices  "offline" (the server's MQTT will, and its last word when it stops)
 * </pre>
 *
 * A device subscribes to its down-topic, then publishes {@code open <tag>} (a fresh random tag per
 * control connection) on its up-topic; the server ends the previous session of that topic, echoes
 * {@code open <tag>} on the down-topic and then sends the {@code challenge}. The device ignores
 * everything on its down-topic before its own echo (leftovers of an earlier session). A JSON
 * message always begins with {@code '{'}, so the markers cannot be mistaken for one.
 */
public final class MqttRendezvousTopics {
    /** The first levels of every rendezvous topic. */
    public static final String PREFIX = "peerlink/rv";
    /** Marker payload that opens a session (device) or acknowledges it (server). */
    public static final String OPEN = "open";
    /** Marker payload that ends a session. */
    public static final String CLOSE = "close";
    /**
     * The server's status topic: the server's broker connection has the will {@value #OFFLINE} here (and the
     * server publishes it when it stops), so devices learn at once that every session it held is gone.
     */
    public static final String SERVER_STATUS = PREFIX + "/server";
    /** Payload on {@link #SERVER_STATUS}: the server lost (or closed) its broker connection. */
    public static final String OFFLINE = "offline";

    private MqttRendezvousTopics() {
    }

    /**
     * @param deviceTopicId the device's ID (1..128 characters {@code [A-Za-z0-9_-]})
     * @return the topic the device publishes on
     * @throws IllegalArgumentException if the ID is not a valid device topic ID
     */
    public static String up(String deviceTopicId) {
        return PREFIX + "/" + InboxTopics.checkId(Objects.requireNonNull(deviceTopicId, "deviceTopicId"), "device topic ID") + "/up";
    }

    /**
     * @param deviceTopicId the device's ID
     * @return the topic the server publishes on for that device
     * @throws IllegalArgumentException if the ID is not a valid device topic ID
     */
    public static String down(String deviceTopicId) {
        return PREFIX + "/" + InboxTopics.checkId(Objects.requireNonNull(deviceTopicId, "deviceTopicId"), "device topic ID") + "/down";
    }

    /** @return the subscription filter of the server: every device's up-topic */
    public static String allUp() {
        return PREFIX + "/+/up";
    }

    /**
     * @param topic a topic the server received
     * @return the device topic ID of an up-topic, or null if the topic is not one
     */
    static String deviceOfUp(String topic) {
        String start = PREFIX + "/";
        if (!topic.startsWith(start) || !topic.endsWith("/up")) {
            return null;
        }
        String id = topic.substring(start.length(), topic.length() - 3);
        return InboxTopics.idProblem(id) == null ? id : null;
    }

    static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
