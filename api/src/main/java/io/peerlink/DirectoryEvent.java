package io.peerlink;

import java.util.Objects;

/**
 * A change in a resource directory, delivered to listeners added with
 * {@link ResourceBridge#subscribe}. Every event carries the registration as it is after the change
 * (for removals and expiries: as it was last).
 */
public sealed interface DirectoryEvent {

    /** @return the registration the event is about */
    Registration registration();

    /**
     * A new endpoint registered, or an existing one re-registered (replacing its links).
     *
     * @param registration the registration
     */
    record Registered(Registration registration) implements DirectoryEvent {
        /**
         * @param registration the registration
         * @throws NullPointerException if it is null
         */
        public Registered {
            Objects.requireNonNull(registration, "registration");
        }
    }

    /**
     * A registration was updated (RFC 9176 section 5.3.1): lifetime refreshed, parameters changed.
     *
     * @param registration the registration after the update
     */
    record Updated(Registration registration) implements DirectoryEvent {
        /**
         * @param registration the registration
         * @throws NullPointerException if it is null
         */
        public Updated {
            Objects.requireNonNull(registration, "registration");
        }
    }

    /**
     * A registration was removed by its endpoint (or through the API).
     *
     * @param registration the registration as it was
     */
    record Removed(Registration registration) implements DirectoryEvent {
        /**
         * @param registration the registration
         * @throws NullPointerException if it is null
         */
        public Removed {
            Objects.requireNonNull(registration, "registration");
        }
    }

    /**
     * A registration's lifetime ran out without an update.
     *
     * @param registration the registration as it was
     */
    record Expired(Registration registration) implements DirectoryEvent {
        /**
         * @param registration the registration
         * @throws NullPointerException if it is null
         */
        public Expired {
            Objects.requireNonNull(registration, "registration");
        }
    }
}
