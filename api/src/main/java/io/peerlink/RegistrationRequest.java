package io.peerlink;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * What an endpoint registers in a resource directory: the parameters of RFC 9176's
 * {@code POST /rd?ep=...&d=...&lt=...&base=...&et=...} and its link-format payload. The
 * constructor enforces RFC 9176's rules, so a request that exists is one a directory accepts.
 *
 * @param endpointName the endpoint name ({@code ep}): 1 to 63 bytes of UTF-8, no character in
 *        U+0000..U+001F or U+007F..U+009F
 * @param sector the sector ({@code d}), same rules as the name
 * @param base the base URI ({@code base}); absolute, without query or fragment; empty means
 *        "the address the request came from" (for {@link ResourceBridge#register} from Java
 *        code, the bridge's own CoAP endpoint)
 * @param endpointType the endpoint type ({@code et}), if any
 * @param lifetime the lifetime ({@code lt}), 1 s to 4,294,967,295 s, whole seconds
 * @param attributes further registration parameters (extension attributes), name to value
 * @param links the endpoint's links
 */
public record RegistrationRequest(String endpointName, Optional<String> sector, Optional<URI> base,
                                  Optional<String> endpointType, Duration lifetime, Map<String, String> attributes,
                                  List<ResourceLink> links) {

    /** RFC 9176 section 9.3: the lifetime when a registration gives none (25 hours). */
    public static final Duration DEFAULT_LIFETIME = Duration.ofSeconds(90_000);

    /** RFC 9176 section 9.3: the largest lifetime, 2^32 - 1 seconds. */
    public static final Duration MAX_LIFETIME = Duration.ofSeconds(4_294_967_295L);

    /** Registration parameters with components of their own; not allowed as attributes. */
    public static final Set<String> RESERVED_PARAMETERS = Set.of("ep", "d", "lt", "base", "et", "page", "count", "href");

    /**
     * Validates and copies the components.
     *
     * @param endpointName the endpoint name
     * @param sector the sector
     * @param base the base URI
     * @param endpointType the endpoint type
     * @param lifetime the lifetime
     * @param attributes further parameters
     * @param links the links
     * @throws NullPointerException if a component is null
     * @throws IllegalArgumentException if a rule of RFC 9176 is broken; the message names it
     */
    public RegistrationRequest {
        checkName("ep", endpointName);
        Objects.requireNonNull(sector, "sector").ifPresent(d -> checkName("d", d));
        Objects.requireNonNull(base, "base").ifPresent(RegistrationRequest::checkBase);
        Objects.requireNonNull(endpointType, "endpointType").ifPresent(et -> checkName("et", et));
        Objects.requireNonNull(lifetime, "lifetime");
        if (lifetime.getNano() != 0 || lifetime.getSeconds() < 1 || lifetime.compareTo(MAX_LIFETIME) > 0) {
            throw new IllegalArgumentException("lt must be whole seconds in 1..4294967295: " + lifetime);
        }
        Map<String, String> copy = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : attributes.entrySet()) {
            String name = Objects.requireNonNull(e.getKey(), "attribute name");
            if (!ResourceLink.isToken(name) || RESERVED_PARAMETERS.contains(name)) {
                throw new IllegalArgumentException("bad registration attribute name: '" + name + "'");
            }
            copy.put(name, Objects.requireNonNull(e.getValue(), "attribute value"));
        }
        attributes = java.util.Collections.unmodifiableMap(copy);
        links = List.copyOf(links);
    }

    /**
     * @param endpointName the endpoint name
     * @param links the links
     * @param lifetime the lifetime
     * @return a request without sector, base, type or attributes
     * @throws IllegalArgumentException if a rule of RFC 9176 is broken
     */
    public static RegistrationRequest of(String endpointName, List<ResourceLink> links, Duration lifetime) {
        return new RegistrationRequest(endpointName, Optional.empty(), Optional.empty(), Optional.empty(), lifetime,
                Map.of(), links);
    }

    /**
     * @param baseUri the base URI relative link targets resolve against
     * @return a copy with that base
     * @throws IllegalArgumentException if it is not absolute, or has a query or fragment
     */
    public RegistrationRequest withBase(URI baseUri) {
        return new RegistrationRequest(endpointName, sector, Optional.of(baseUri), endpointType, lifetime, attributes,
                links);
    }

    /**
     * Checks an endpoint name, sector or endpoint type against RFC 9176 section 9.3.
     *
     * @param parameter the parameter's name, for the message
     * @param value the value
     * @throws NullPointerException if value is null
     * @throws IllegalArgumentException if it is empty, longer than 63 bytes of UTF-8, or holds a
     *         control character (U+0000..U+001F, U+007F..U+009F)
     */
    public static void checkName(String parameter, String value) {
        Objects.requireNonNull(value, parameter);
        if (value.isEmpty()) {
            throw new IllegalArgumentException(parameter + " must not be empty");
        }
        int bytes = value.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > 63) {
            throw new IllegalArgumentException(parameter + " is " + bytes + " bytes of UTF-8; RFC 9176 allows 63");
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c <= 0x1F || (c >= 0x7F && c <= 0x9F)) {
                throw new IllegalArgumentException(parameter + " holds control character U+"
                        + String.format("%04X", (int) c) + " at index " + i);
            }
        }
    }

    private static void checkBase(URI base) {
        if (!base.isAbsolute() || base.getRawAuthority() == null) {
            throw new IllegalArgumentException("base must be an absolute URI with an authority: " + base);
        }
        if (base.getRawQuery() != null || base.getRawFragment() != null) {
            throw new IllegalArgumentException("base must not have a query or fragment: " + base);
        }
    }
}
