package io.peerlink.testkit;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The text of a Mosquitto {@code acl_file} (mosquitto.conf(5)) for PeerLink's MQTT topics, with
 * every device logged in under its device ID: the inbox rules of docs/transports.md and, with
 * {@link #rendezvous(String)}, the rendezvous topics and the server's status topic of
 * docs/protocol-rendezvous.md ("The MQTT carrier", "Broker ACLs"). {@code rendezvous("rendezvous").build()}
 * is exactly the {@code acl_file} printed there. Extra per-user grants (an observer that reads
 * {@code #}) follow the documented lines.
 *
 * <pre>{@code
 * Mosquitto.create().user(id, password).user("rendezvous", serverPassword)
 *         .acl(MosquittoAcl.inboxes().rendezvous("rendezvous").read("admin", "#").build()).start();
 * }</pre>
 */
public final class MosquittoAcl {
    /** The server's status topic: the server's will {@code offline}; devices read it, only the server writes it. */
    public static final String STATUS_TOPIC = "peerlink/rv/server";

    private String serverUser;
    private boolean devicesReadStatus = true;
    private final Map<String, List<String>> grants = new LinkedHashMap<>();

    private MosquittoAcl() {
    }

    /**
     * Starts with the inbox rules of docs/transports.md: every device reads its own inbox
     * {@code peerlink/in/<its user name>/+} and writes into any inbox only with its own user name as
     * the sender level.
     *
     * @return a builder holding only the inbox rules
     */
    public static MosquittoAcl inboxes() {
        return new MosquittoAcl();
    }

    /**
     * Adds the rendezvous carrier's topics: each device writes only its own
     * {@code peerlink/rv/<id>/up}, reads only its own {@code peerlink/rv/<id>/down} and reads the
     * status topic; the server's login reads every up-topic, writes every down-topic and writes
     * the status topic.
     *
     * @param serverUser the reference server's broker user name ({@code mqtt.rendezvous.username})
     * @return this builder
     * @throws NullPointerException if {@code serverUser} is null
     */
    public MosquittoAcl rendezvous(String serverUser) {
        this.serverUser = Objects.requireNonNull(serverUser, "serverUser");
        return this;
    }

    /**
     * Leaves out the rule that lets every device read the status topic (grant it per user with
     * {@link #read(String, String)}); such devices notice a server that lost its broker connection
     * only through the control keepalive.
     *
     * @return this builder
     */
    public MosquittoAcl withoutStatusForDevices() {
        devicesReadStatus = false;
        return this;
    }

    /**
     * Lets one user read a topic filter, after the documented rules.
     *
     * @param user the user name
     * @param topicFilter the filter, e.g. {@code #}
     * @return this builder
     * @throws NullPointerException if an argument is null
     */
    public MosquittoAcl read(String user, String topicFilter) {
        grants.computeIfAbsent(Objects.requireNonNull(user, "user"), u -> new ArrayList<>())
                .add("topic read " + Objects.requireNonNull(topicFilter, "topicFilter"));
        return this;
    }

    /**
     * @return the {@code acl_file} text, one rule per line, ending with a newline
     * @throws IllegalStateException if a per-user grant names the server's user (add it to the server's lines instead)
     */
    public String build() {
        StringBuilder s = new StringBuilder();
        s.append("pattern read peerlink/in/%u/+\n");
        s.append("pattern write peerlink/in/+/%u\n");
        if (serverUser != null) {
            s.append("pattern write peerlink/rv/%u/up\n");
            s.append("pattern read peerlink/rv/%u/down\n");
            if (devicesReadStatus) {
                s.append("pattern read ").append(STATUS_TOPIC).append('\n');
            }
            if (grants.containsKey(serverUser)) {
                throw new IllegalStateException("'" + serverUser + "' is the server's user: its rules come from rendezvous(), not read()");
            }
            s.append("user ").append(serverUser).append('\n');
            s.append("topic read peerlink/rv/+/up\n");
            s.append("topic write peerlink/rv/+/down\n");
            s.append("topic write ").append(STATUS_TOPIC).append('\n');
        }
        grants.forEach((user, lines) -> {
            s.append("user ").append(user).append('\n');
            lines.forEach(l -> s.append(l).append('\n'));
        });
        return s.toString();
    }
}
