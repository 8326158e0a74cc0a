package io.peerlink.spi;

import java.util.Objects;

/** An {@link Authenticator}'s decision. */
public sealed interface AuthResult {

    /**
     * Admitted as a member of a network (group); the default access policy lets devices of the
     * same network reach each other.
     *
     * @param network the network the device belongs to
     */
    record Admitted(String network) implements AuthResult {
        /**
         * @param network the network the device belongs to
         * @throws NullPointerException if network is null
         */
        public Admitted {
            Objects.requireNonNull(network, "network");
        }
    }

    /**
     * Refused.
     *
     * @param reason why, sent to the device
     */
    record Denied(String reason) implements AuthResult {
        /**
         * @param reason why, sent to the device
         * @throws NullPointerException if reason is null
         */
        public Denied {
            Objects.requireNonNull(reason, "reason");
        }
    }
}
