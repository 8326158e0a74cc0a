package io.peerlink;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;

/**
 * A web link in CoRE Link Format (RFC 6690), as a device registers it in a resource directory and
 * as a lookup returns it. The attributes RFC 6690 and RFC 9176 define have typed components; any
 * other attribute is kept, unquoted, in {@link #extensions()}.
 *
 * <pre>{@code
 * ResourceLink temp = ResourceLink.builder("/temp")
 *         .resourceType("temperature-c")
 *         .interfaceDescription("sensor")
 *         .contentFormat(50)
 *         .observable(true)
 *         .build();
 * }</pre>
 *
 * @param target the link target ({@code href}): a URI reference such as {@code /temp} or
 *        {@code coap://[2001:db8::1]/temp}
 * @param anchor the link context ({@code anchor}), if any
 * @param relation the relation types ({@code rel}); empty means RFC 6690's default
 *        {@code hosts}
 * @param resourceTypes the resource types ({@code rt})
 * @param interfaces the interface descriptions ({@code if})
 * @param contentFormats the CoAP Content-Format numbers ({@code ct})
 * @param maxSize the estimated maximum size in bytes ({@code sz}), if known
 * @param title the human-readable title ({@code title}), if any
 * @param observable whether the resource supports CoAP Observe ({@code obs})
 * @param extensions every other attribute, name to values (a name may repeat); values unquoted
 */
public record ResourceLink(String target, Optional<String> anchor, List<String> relation,
                           List<String> resourceTypes, List<String> interfaces, List<Integer> contentFormats,
                           OptionalLong maxSize, Optional<String> title, boolean observable,
                           Map<String, List<String>> extensions) {

    /** The attribute names with typed components; {@link #extensions()} never holds them. */
    public static final Set<String> TYPED_ATTRIBUTES =
            Set.of("href", "anchor", "rel", "rt", "if", "ct", "sz", "title", "obs");

    /**
     * Validates and copies the components.
     *
     * @param target the link target
     * @param anchor the link context
     * @param relation the relation types
     * @param resourceTypes the resource types
     * @param interfaces the interface descriptions
     * @param contentFormats the content formats, each 0..65535
     * @param maxSize the estimated maximum size, not negative
     * @param title the title
     * @param observable whether observable
     * @param extensions other attributes; none may be one of {@link #TYPED_ATTRIBUTES}
     * @throws NullPointerException if a component or an element is null
     * @throws IllegalArgumentException if the target is empty or contains {@code >}, a content
     *         format is out of range, the size is negative, or an extension name is empty, not
     *         a token, or a typed attribute's name
     */
    public ResourceLink {
        Objects.requireNonNull(target, "target");
        if (target.isEmpty() || target.indexOf('>') >= 0 || target.indexOf('<') >= 0) {
            throw new IllegalArgumentException("link target must be a non-empty URI reference without '<' or '>': "
                    + target);
        }
        Objects.requireNonNull(anchor, "anchor");
        relation = List.copyOf(relation);
        resourceTypes = List.copyOf(resourceTypes);
        interfaces = List.copyOf(interfaces);
        contentFormats = List.copyOf(contentFormats);
        for (int ct : contentFormats) {
            if (ct < 0 || ct > 0xFFFF) {
                throw new IllegalArgumentException("content format " + ct + " is outside 0..65535");
            }
        }
        Objects.requireNonNull(maxSize, "maxSize");
        if (maxSize.isPresent() && maxSize.getAsLong() < 0) {
            throw new IllegalArgumentException("sz must not be negative: " + maxSize.getAsLong());
        }
        Objects.requireNonNull(title, "title");
        Map<String, List<String>> copy = new LinkedHashMap<>();
        for (Map.Entry<String, List<String>> e : extensions.entrySet()) {
            String name = Objects.requireNonNull(e.getKey(), "extension name");
            if (!isToken(name) || TYPED_ATTRIBUTES.contains(name)) {
                throw new IllegalArgumentException("bad extension attribute name: '" + name + "'");
            }
            copy.put(name, List.copyOf(e.getValue()));
        }
        extensions = Collections.unmodifiableMap(copy);
    }

    /**
     * @param target the link target
     * @return a link with that target and no attributes
     * @throws IllegalArgumentException if the target is not a valid link target
     */
    public static ResourceLink of(String target) {
        return builder(target).build();
    }

    /**
     * @param target the link target
     * @return a builder for a link with that target
     * @throws NullPointerException if target is null
     */
    public static Builder builder(String target) {
        return new Builder(Objects.requireNonNull(target, "target"));
    }

    /** @return a builder holding this link's values, to derive a changed copy */
    public Builder toBuilder() {
        Builder b = new Builder(target);
        b.anchor = anchor.orElse(null);
        b.relation.addAll(relation);
        b.resourceTypes.addAll(resourceTypes);
        b.interfaces.addAll(interfaces);
        b.contentFormats.addAll(contentFormats);
        b.maxSize = maxSize.isPresent() ? maxSize.getAsLong() : null;
        b.title = title.orElse(null);
        b.observable = observable;
        extensions.forEach((k, v) -> b.extensions.put(k, new ArrayList<>(v)));
        return b;
    }

    /**
     * The values of one attribute by its link-format name, typed or not, as strings; used by
     * lookup filters.
     *
     * @param name an attribute name such as {@code rt}, {@code ct} or {@code ep}
     * @return its values, empty if the link does not carry it
     * @throws NullPointerException if name is null
     */
    public List<String> attribute(String name) {
        switch (Objects.requireNonNull(name, "name")) {
            case "href":
                return List.of(target);
            case "anchor":
                return anchor.map(List::of).orElse(List.of());
            case "rel":
                return relation;
            case "rt":
                return resourceTypes;
            case "if":
                return interfaces;
            case "ct":
                return contentFormats.stream().map(String::valueOf).toList();
            case "sz":
                return maxSize.isPresent() ? List.of(String.valueOf(maxSize.getAsLong())) : List.of();
            case "title":
                return title.map(List::of).orElse(List.of());
            case "obs":
                return observable ? List.of("") : List.of();
            default:
                return extensions.getOrDefault(name, List.of());
        }
    }

    static boolean isToken(String s) {
        if (s.isEmpty()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || "!#$&+-.^_`|~".indexOf(c) >= 0;
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    /** Builds a {@link ResourceLink}; not thread-safe. */
    public static final class Builder {
        private final String target;
        private String anchor;
        private final List<String> relation = new ArrayList<>();
        private final List<String> resourceTypes = new ArrayList<>();
        private final List<String> interfaces = new ArrayList<>();
        private final List<Integer> contentFormats = new ArrayList<>();
        private Long maxSize;
        private String title;
        private boolean observable;
        private final Map<String, List<String>> extensions = new LinkedHashMap<>();

        private Builder(String target) {
            this.target = target;
        }

        /**
         * @param value the link context, e.g. the registering endpoint's base URI
         * @return this
         */
        public Builder anchor(String value) {
            this.anchor = Objects.requireNonNull(value, "anchor");
            return this;
        }

        /**
         * @param value a relation type to add
         * @return this
         */
        public Builder relation(String value) {
            relation.add(Objects.requireNonNull(value, "rel"));
            return this;
        }

        /**
         * @param value a resource type ({@code rt}) to add
         * @return this
         */
        public Builder resourceType(String value) {
            resourceTypes.add(Objects.requireNonNull(value, "rt"));
            return this;
        }

        /**
         * @param value an interface description ({@code if}) to add
         * @return this
         */
        public Builder interfaceDescription(String value) {
            interfaces.add(Objects.requireNonNull(value, "if"));
            return this;
        }

        /**
         * @param value a CoAP Content-Format number ({@code ct}) to add
         * @return this
         */
        public Builder contentFormat(int value) {
            contentFormats.add(value);
            return this;
        }

        /**
         * @param bytes the estimated maximum size ({@code sz})
         * @return this
         */
        public Builder maxSize(long bytes) {
            this.maxSize = bytes;
            return this;
        }

        /**
         * @param value the title
         * @return this
         */
        public Builder title(String value) {
            this.title = Objects.requireNonNull(value, "title");
            return this;
        }

        /**
         * @param value whether the resource is observable ({@code obs})
         * @return this
         */
        public Builder observable(boolean value) {
            this.observable = value;
            return this;
        }

        /**
         * Adds an attribute by name; typed names ({@code rt}, {@code if}, {@code ct}, ...) go to
         * their typed component, others to the extensions.
         *
         * @param name the attribute name
         * @param value the unquoted value; {@code ""} for an attribute without a value
         * @return this
         * @throws IllegalArgumentException if a typed attribute's value is malformed (e.g. a
         *         non-numeric {@code ct})
         */
        public Builder attribute(String name, String value) {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(value, "value");
            switch (name) {
                case "href":
                    throw new IllegalArgumentException("href is the link target, not an attribute");
                case "anchor":
                    return anchor(value);
                case "rel":
                    splitInto(value, relation);
                    return this;
                case "rt":
                    splitInto(value, resourceTypes);
                    return this;
                case "if":
                    splitInto(value, interfaces);
                    return this;
                case "ct":
                    for (String part : value.trim().split(" +")) {
                        contentFormats.add(parseNumber("ct", part));
                    }
                    return this;
                case "sz":
                    maxSize = (long) parseNumber("sz", value.trim());
                    return this;
                case "title":
                    return title(value);
                case "obs":
                    observable = true;
                    return this;
                default:
                    extensions.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
                    return this;
            }
        }

        private static void splitInto(String value, List<String> into) {
            for (String part : value.trim().split(" +")) {
                if (!part.isEmpty()) {
                    into.add(part);
                }
            }
        }

        private static int parseNumber(String name, String text) {
            if (text.isEmpty() || text.length() > 10 || !text.chars().allMatch(Character::isDigit)) {
                throw new IllegalArgumentException(name + " must be a decimal number: '" + text + "'");
            }
            long v = Long.parseLong(text);
            if (v > Integer.MAX_VALUE) {
                throw new IllegalArgumentException(name + " is too large: " + text);
            }
            return (int) v;
        }

        /**
         * @return the link
         * @throws IllegalArgumentException if a value is invalid (see the record's constructor)
         */
        public ResourceLink build() {
            return new ResourceLink(target, Optional.ofNullable(anchor), relation, resourceTypes, interfaces,
                    contentFormats, maxSize == null ? OptionalLong.empty() : OptionalLong.of(maxSize),
                    Optional.ofNullable(title), observable, extensions);
        }
    }
}
