package io.peerlink;

import java.util.Map;
import java.util.Objects;

/**
 * A web link in CoRE Link Format (RFC 6690): a target with attributes such as {@code rt},
 * {@code if}, {@code ct}, as registered in a resource directory.
 *
 * @param target the link target, e.g. {@code coap://[2001:db8::1]/temp} or {@code /temp}
 * @param attributes link attributes; values unquoted
 */
public record ResourceLink(String target, Map<String, String> attributes) {
    /**
     * Validates the components.
     *
     * @param target the link target, e.g. {@code coap://[2001:db8::1]/temp} or {@code /temp}
     * @param attributes link attributes; values unquoted
     * @throws NullPointerException if target or attributes is null
     */
    public ResourceLink {
        Objects.requireNonNull(target, "target");
        attributes = Map.copyOf(Objects.requireNonNull(attributes, "attributes"));
    }
}
