package io.peerlink;

import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * One endpoint's registration in a resource directory (RFC 9176 section 5): the registration
 * resource's location, the registration parameters and the endpoint's links.
 *
 * @param location the registration resource's path, e.g. {@code /rd/4521}; stable across
 *        re-registrations of the same endpoint name and sector
 * @param endpointName the endpoint name ({@code ep})
 * @param sector the sector ({@code d}), if any
 * @param base the base URI relative targets resolve against ({@code base}, or the source
 *        address of a CoAP registration that gave none)
 * @param endpointType the endpoint type ({@code et}), if any
 * @param lifetime the lifetime ({@code lt})
 * @param expires when the registration expires unless refreshed
 * @param attributes further registration parameters, name to value
 * @param links the endpoint's links as registered (targets not yet resolved)
 */
public record Registration(String location, String endpointName, Optional<String> sector, URI base,
                           Optional<String> endpointType, Duration lifetime, Instant expires,
                           Map<String, String> attributes, List<ResourceLink> links) {
    /**
     * Checks and copies the components.
     *
     * @param location the registration resource's path
     * @param endpointName the endpoint name
     * @param sector the sector
     * @param base the base URI
     * @param endpointType the endpoint type
     * @param lifetime the lifetime
     * @param expires the expiry instant
     * @param attributes further parameters
     * @param links the links
     * @throws NullPointerException if a component is null
     */
    public Registration {
        Objects.requireNonNull(location, "location");
        Objects.requireNonNull(endpointName, "endpointName");
        Objects.requireNonNull(sector, "sector");
        Objects.requireNonNull(base, "base");
        Objects.requireNonNull(endpointType, "endpointType");
        Objects.requireNonNull(lifetime, "lifetime");
        Objects.requireNonNull(expires, "expires");
        attributes = Map.copyOf(attributes);
        links = List.copyOf(links);
    }
}
