package io.peerlink;

import java.util.Objects;

/**
 * An endpoint at which a device may be reachable, with its type and ICE priority.
 *
 * @param endpoint where to send
 * @param type where it comes from
 * @param priority ICE priority (RFC 8445 section 5.1.2); higher is tried first
 */
public record Candidate(Endpoint endpoint, CandidateType type, long priority) {

    /**
     * @throws NullPointerException if endpoint or type is null
     * @throws IllegalArgumentException if the priority is outside 0..2^32-1
     * @param endpoint where to send
     * @param type where it comes from
     * @param priority ICE priority (RFC 8445 section 5.1.2); higher is tried first
     */
    public Candidate {
        Objects.requireNonNull(endpoint, "endpoint");
        Objects.requireNonNull(type, "type");
        if (priority < 0 || priority > 0xffff_ffffL) {
            throw new IllegalArgumentException("priority must fit in 32 unsigned bits: " + priority);
        }
    }

    /**
     * Creates a candidate with the RFC 8445 priority
     * {@code 2^24 * typePreference + 2^8 * localPreference + (256 - componentId)}, component 1.
     *
     * @param endpoint where to send
     * @param type where it comes from
     * @param localPreference 0..65535, higher for preferred interfaces
     * @return the candidate
     * @throws IllegalArgumentException if localPreference is out of range
     */
    public static Candidate of(Endpoint endpoint, CandidateType type, int localPreference) {
        if (localPreference < 0 || localPreference > 65535) {
            throw new IllegalArgumentException("localPreference must be 0..65535: " + localPreference);
        }
        long priority = ((long) type.typePreference() << 24) + ((long) localPreference << 8) + 255;
        return new Candidate(endpoint, type, priority);
    }
}
