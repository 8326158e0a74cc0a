package io.peerlink.testkit;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * A raw MQTT 3.1.1 client, independent of any MQTT library, that logs in with a will and then
 * drops its TCP connection without DISCONNECT, so that a broker which stored the will publishes it.
 * Tests use it to leave a will on a topic the login may not publish on (another device's rendezvous
 * or inbox topic) and check that the broker refuses the CONNECT ({@link #NOT_AUTHORIZED}) and that
 * nothing reaches the victim's subscription.
 */
public final class MqttWillProbe {
    /** CONNACK return code 0: connection accepted. */
    public static final int ACCEPTED = 0;
    /** CONNACK return code 5: not authorized. */
    public static final int NOT_AUTHORIZED = 5;

    private final InetSocketAddress broker;
    private final String clientId;
    private final String user;
    private final String password;

    /**
     * @param broker the broker's address
     * @param clientId the MQTT client ID
     * @param user the user name
     * @param password the password (for PeerLink's embedded broker, a signed login token)
     * @throws NullPointerException if an argument is null
     */
    public MqttWillProbe(InetSocketAddress broker, String clientId, String user, String password) {
        this.broker = Objects.requireNonNull(broker, "broker");
        this.clientId = Objects.requireNonNull(clientId, "clientId");
        this.user = Objects.requireNonNull(user, "user");
        this.password = Objects.requireNonNull(password, "password");
    }

    /**
     * Connects with a QoS 1 will on {@code willTopic}, reads the CONNACK and resets the TCP connection
     * (no DISCONNECT): a will the broker accepted is then published.
     *
     * @param willTopic the will's topic
     * @param willPayload the will's payload (UTF-8)
     * @return the CONNACK's return code, e.g. {@link #ACCEPTED} or {@link #NOT_AUTHORIZED}
     * @throws IOException if the broker cannot be reached, or closes the connection before a whole CONNACK
     *         (10 s read timeout)
     */
    public int connectWithWillAndDrop(String willTopic, String willPayload) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(broker, 10_000);
            s.setSoTimeout(10_000);
            s.setSoLinger(true, 0); // close() sends RST: no DISCONNECT
            send(s.getOutputStream(), willTopic, willPayload);
            byte[] connack = new byte[4];
            new DataInputStream(s.getInputStream()).readFully(connack);
            if ((connack[0] & 0xff) != 0x20 || connack[1] != 2) {
                throw new IOException(String.format("expected a CONNACK, got %02x %02x", connack[0], connack[1]));
            }
            return connack[3] & 0xff;
        }
    }

    /**
     * Sends the CONNECT with a will on {@code willTopic} and resets the connection at once, without
     * waiting for the CONNACK: a broker must not let the drop race a will through.
     *
     * @param willTopic the will's topic
     * @param willPayload the will's payload (UTF-8)
     * @throws IOException if the broker cannot be reached
     */
    public void connectWithWillAndReset(String willTopic, String willPayload) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(broker, 10_000);
            s.setSoLinger(true, 0);
            send(s.getOutputStream(), willTopic, willPayload);
        }
    }

    private void send(OutputStream out, String willTopic, String willPayload) throws IOException {
        out.write(connect(clientId, user, password, Objects.requireNonNull(willTopic, "willTopic"),
                Objects.requireNonNull(willPayload, "willPayload")));
        out.flush();
    }

    /** An MQTT 3.1.1 CONNECT with user name, password and a QoS 1 will; keepalive 60 s, clean session. */
    private static byte[] connect(String clientId, String user, String password, String willTopic, String willPayload) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        str(body, "MQTT");
        body.write(4);
        body.write(0x80 | 0x40 | 0x08 | 0x04 | 0x02); // user, password, will QoS 1, will, clean session
        body.write(0);
        body.write(60);
        str(body, clientId);
        str(body, willTopic);
        str(body, willPayload);
        str(body, user);
        str(body, password);
        ByteArrayOutputStream packet = new ByteArrayOutputStream();
        packet.write(0x10);
        int len = body.size();
        do {
            int b = len % 128;
            len /= 128;
            packet.write(len > 0 ? b | 0x80 : b);
        } while (len > 0);
        packet.writeBytes(body.toByteArray());
        return packet.toByteArray();
    }

    private static void str(ByteArrayOutputStream out, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        if (b.length > 0xffff) {
            throw new IllegalArgumentException("an MQTT string holds at most 65535 bytes, not " + b.length);
        }
        out.write(b.length >> 8);
        out.write(b.length & 0xff);
        out.write(b, 0, b.length);
    }
}
