package io.peerlink.relay.turn;

import java.net.InetAddress;
import java.time.Duration;
import java.util.Objects;
import java.util.function.BiPredicate;

/**
 * Configuration of the embedded {@link TurnServer}. Every limit is on by default; the defaults
 * suit a small public relay and are listed in docs/relay.md.
 *
 * @param bindAddress address the UDP and TCP listeners bind
 * @param udpPort UDP listener port (0 = ephemeral, -1 = no UDP listener)
 * @param tcpPort TCP listener port (0 = ephemeral, -1 = no TCP listener)
 * @param relayAddress address relay sockets bind (the address peers send to)
 * @param realm the REALM of the long-term credentials
 * @param secret the REST API shared secret (coturn's static-auth-secret)
 * @param maxAllocationsPerUser concurrent allocations one REST user ID (device) may hold
 * @param maxAllocations concurrent allocations in total
 * @param maxLifetime longest allocation lifetime granted per Allocate/Refresh
 * @param maxBytesPerAllocation bytes relayed (both directions) over an allocation's whole life
 * @param bytesPerSecondPerAllocation sustained relay rate per allocation (token bucket, one second of burst)
 * @param requestsPerSecondPerIp STUN requests and undecodable datagrams per client IP per second (burst of twice that)
 * @param allowLoopbackPeers whether peers on loopback addresses may be reached (tests and single-host setups)
 * @param allowPrivatePeers whether peers on private/link-local/unique-local/CGNAT addresses may be reached
 * @param permissionPolicy (username, peer IP) -> may this user relay to that peer; lets the rendezvous
 *        restrict permissions to the peer it introduced; default allows every (public) peer
 */
public record TurnServerConfig(InetAddress bindAddress, int udpPort, int tcpPort, InetAddress relayAddress, String realm,
                               String secret, int maxAllocationsPerUser, int maxAllocations, Duration maxLifetime,
                               long maxBytesPerAllocation, long bytesPerSecondPerAllocation, int requestsPerSecondPerIp,
                               boolean allowLoopbackPeers, boolean allowPrivatePeers, BiPredicate<String, InetAddress> permissionPolicy) {

    /** Validates every field. */
    public TurnServerConfig {
        Objects.requireNonNull(bindAddress, "bindAddress");
        Objects.requireNonNull(relayAddress, "relayAddress");
        Objects.requireNonNull(realm, "realm");
        Objects.requireNonNull(secret, "secret");
        Objects.requireNonNull(maxLifetime, "maxLifetime");
        Objects.requireNonNull(permissionPolicy, "permissionPolicy");
        if (udpPort < -1 || udpPort > 65535 || tcpPort < -1 || tcpPort > 65535 || (udpPort == -1 && tcpPort == -1)) {
            throw new IllegalArgumentException("ports must be -1 (off), 0 (ephemeral) or 1..65535, and one listener on: " + udpPort + "/" + tcpPort);
        }
        if (secret.length() < 16) {
            throw new IllegalArgumentException("the shared secret must have at least 16 characters");
        }
        if (realm.isEmpty() || realm.length() > 127) {
            throw new IllegalArgumentException("realm must have 1..127 characters");
        }
        if (maxAllocationsPerUser < 1 || maxAllocations < 1 || maxBytesPerAllocation < 1 || bytesPerSecondPerAllocation < 1
                || requestsPerSecondPerIp < 1) {
            throw new IllegalArgumentException("limits must be positive");
        }
        if (maxLifetime.toSeconds() < 60) {
            throw new IllegalArgumentException("maxLifetime must be at least 60 s: " + maxLifetime);
        }
    }

    /** Never prints the shared secret: configurations end up in logs. */
    @Override
    public String toString() {
        return "TurnServerConfig[bind=" + bindAddress.getHostAddress() + " udp=" + udpPort + " tcp=" + tcpPort
                + " relay=" + relayAddress.getHostAddress() + " realm=" + realm + " secret=(redacted)"
                + " allocationsPerUser=" + maxAllocationsPerUser + " allocations=" + maxAllocations + " maxLifetime=" + maxLifetime
                + " bytesPerAllocation=" + maxBytesPerAllocation + " bytesPerSecond=" + bytesPerSecondPerAllocation
                + " requestsPerSecondPerIp=" + requestsPerSecondPerIp + " loopbackPeers=" + allowLoopbackPeers
                + " privatePeers=" + allowPrivatePeers + "]";
    }

    /**
     * @param secret the shared secret (at least 16 characters)
     * @return a builder with the default limits, listening on loopback ephemeral ports
     */
    public static Builder builder(String secret) {
        return new Builder(secret);
    }

    /** Builds a {@link TurnServerConfig}; each setter documents its default. */
    public static final class Builder {
        private InetAddress bindAddress = InetAddress.getLoopbackAddress();
        private InetAddress relayAddress;
        private int udpPort;
        private int tcpPort;
        private String realm = "peerlink";
        private final String secret;
        private int maxAllocationsPerUser = 4;
        private int maxAllocations = 1000;
        private Duration maxLifetime = Duration.ofHours(1);
        private long maxBytesPerAllocation = 1L << 30;
        private long bytesPerSecondPerAllocation = 8L << 20;
        private int requestsPerSecondPerIp = 50;
        private boolean allowLoopbackPeers;
        private boolean allowPrivatePeers;
        private BiPredicate<String, InetAddress> permissionPolicy = (user, peer) -> true;

        private Builder(String secret) {
            this.secret = secret;
        }

        /** Listener address; default loopback. The relay address follows it unless set. */
        public Builder bindAddress(InetAddress a) { this.bindAddress = a; return this; }

        /** Relay socket address; default the bind address. */
        public Builder relayAddress(InetAddress a) { this.relayAddress = a; return this; }

        /** UDP port; default 0 (ephemeral); -1 turns UDP off. */
        public Builder udpPort(int p) { this.udpPort = p; return this; }

        /** TCP port; default 0 (ephemeral); -1 turns TCP off. */
        public Builder tcpPort(int p) { this.tcpPort = p; return this; }

        /** Realm; default {@code peerlink}. */
        public Builder realm(String r) { this.realm = r; return this; }

        /** Default 4. */
        public Builder maxAllocationsPerUser(int n) { this.maxAllocationsPerUser = n; return this; }

        /** Default 1000. */
        public Builder maxAllocations(int n) { this.maxAllocations = n; return this; }

        /** Default 1 hour. */
        public Builder maxLifetime(Duration d) { this.maxLifetime = d; return this; }

        /** Default 1 GiB. */
        public Builder maxBytesPerAllocation(long n) { this.maxBytesPerAllocation = n; return this; }

        /** Default 8 MiB/s. */
        public Builder bytesPerSecondPerAllocation(long n) { this.bytesPerSecondPerAllocation = n; return this; }

        /** Default 50. */
        public Builder requestsPerSecondPerIp(int n) { this.requestsPerSecondPerIp = n; return this; }

        /** Default false: loopback peers get 403. */
        public Builder allowLoopbackPeers(boolean b) { this.allowLoopbackPeers = b; return this; }

        /** Default false: private, link-local, CGNAT and unique-local peers get 403. */
        public Builder allowPrivatePeers(boolean b) { this.allowPrivatePeers = b; return this; }

        /** Default: every peer that passes the private-address rule. */
        public Builder permissionPolicy(BiPredicate<String, InetAddress> p) { this.permissionPolicy = p; return this; }

        /** @return the validated configuration */
        public TurnServerConfig build() {
            return new TurnServerConfig(bindAddress, udpPort, tcpPort, relayAddress != null ? relayAddress : bindAddress, realm, secret,
                    maxAllocationsPerUser, maxAllocations, maxLifetime, maxBytesPerAllocation, bytesPerSecondPerAllocation,
                    requestsPerSecondPerIp, allowLoopbackPeers, allowPrivatePeers, permissionPolicy);
        }
    }
}
