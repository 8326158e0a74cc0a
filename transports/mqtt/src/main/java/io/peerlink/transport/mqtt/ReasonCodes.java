package io.peerlink.transport.mqtt;

import java.util.Map;

/** Names of MQTT reason codes (MQTT 5 section 2.4) and 3.1.1 CONNACK return codes (section 3.2.2.3). */
final class ReasonCodes {

    static final int SESSION_TAKEN_OVER = 0x8E;

    private static final Map<Integer, String> V3_CONNACK = Map.of(
            0, "Connection accepted",
            1, "Unacceptable protocol version",
            2, "Identifier rejected",
            3, "Server unavailable",
            4, "Bad user name or password",
            5, "Not authorized");

    private static final Map<Integer, String> V5 = Map.ofEntries(
            Map.entry(0x00, "Success"),
            Map.entry(0x04, "Disconnect with Will Message"),
            Map.entry(0x10, "No matching subscribers"),
            Map.entry(0x80, "Unspecified error"),
            Map.entry(0x81, "Malformed Packet"),
            Map.entry(0x82, "Protocol Error"),
            Map.entry(0x83, "Implementation specific error"),
            Map.entry(0x84, "Unsupported Protocol Version"),
            Map.entry(0x85, "Client Identifier not valid"),
            Map.entry(0x86, "Bad User Name or Password"),
            Map.entry(0x87, "Not authorized"),
            Map.entry(0x88, "Server unavailable"),
            Map.entry(0x89, "Server busy"),
            Map.entry(0x8A, "Banned"),
            Map.entry(0x8B, "Server shutting down"),
            Map.entry(0x8C, "Bad authentication method"),
            Map.entry(0x8D, "Keep Alive timeout"),
            Map.entry(0x8E, "Session taken over"),
            Map.entry(0x8F, "Topic Filter invalid"),
            Map.entry(0x90, "Topic Name invalid"),
            Map.entry(0x93, "Receive Maximum exceeded"),
            Map.entry(0x94, "Topic Alias invalid"),
            Map.entry(0x95, "Packet too large"),
            Map.entry(0x96, "Message rate too high"),
            Map.entry(0x97, "Quota exceeded"),
            Map.entry(0x98, "Administrative action"),
            Map.entry(0x99, "Payload format invalid"),
            Map.entry(0x9A, "Retain not supported"),
            Map.entry(0x9B, "QoS not supported"),
            Map.entry(0x9C, "Use another server"),
            Map.entry(0x9D, "Server moved"),
            Map.entry(0x9F, "Connection rate exceeded"));

    private ReasonCodes() {
    }

    static String name(MqttVersion version, int code) {
        String name = (version == MqttVersion.MQTT_5 ? V5 : V3_CONNACK).get(code);
        return name != null ? name : "unknown reason code";
    }

    /** @return e.g. {@code 0x86 Bad User Name or Password}, or {@code 4 Bad user name or password} */
    static String describe(MqttVersion version, int code) {
        String number = version == MqttVersion.MQTT_5 ? String.format("0x%02X", code) : Integer.toString(code);
        return number + " " + name(version, code);
    }

    /** Refusals that a reconnect with the same settings cannot overcome: stop instead of retrying. */
    static boolean permanentConnectRefusal(MqttVersion version, int code) {
        if (version == MqttVersion.MQTT_3_1_1) {
            return code == 1 || code == 2 || code == 4 || code == 5;
        }
        return switch (code) {
            case 0x84, 0x85, 0x86, 0x87, 0x8A, 0x8C -> true;
            default -> false;
        };
    }

    /** DISCONNECT reasons after which reconnecting would fight another client or the operator. */
    static boolean permanentDisconnect(int code) {
        return switch (code) {
            case SESSION_TAKEN_OVER, 0x87, 0x8A, 0x98 -> true;
            default -> false;
        };
    }
}
