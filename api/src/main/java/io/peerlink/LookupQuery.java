package io.peerlink;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.OptionalInt;

/**
 * A resource-directory lookup (RFC 9176 section 6): attribute filters and optional paging, as
 * the query of {@code GET /rd-lookup/res?rt=temp*&page=0&count=10} carries them.
 *
 * <p>A filter matches an attribute when one of its values equals the filter's value, or, for a
 * value ending in {@code *}, starts with what comes before the star. Several filters must all
 * match. In a resource lookup a filter may name a link attribute or a registration parameter of
 * the link's endpoint ({@code ep}, {@code d}, {@code et}, ...).
 *
 * @param filters the filters, all of which must match
 * @param page the zero-based page ({@code page}); requires {@code count}
 * @param count the page size ({@code count})
 */
public record LookupQuery(List<Filter> filters, OptionalInt page, OptionalInt count) {

    /**
     * Validates the components.
     *
     * @param filters the filters
     * @param page the page
     * @param count the page size
     * @throws NullPointerException if a component is null
     * @throws IllegalArgumentException if page or count is negative, or a page is given without
     *         a count
     */
    public LookupQuery {
        filters = List.copyOf(filters);
        Objects.requireNonNull(page, "page");
        Objects.requireNonNull(count, "count");
        if (page.isPresent() && page.getAsInt() < 0 || count.isPresent() && count.getAsInt() < 0) {
            throw new IllegalArgumentException("page and count must not be negative");
        }
        if (page.isPresent() && count.isEmpty()) {
            throw new IllegalArgumentException("page needs count (RFC 9176 section 6.1)");
        }
    }

    /** @return a query without filters or paging: everything */
    public static LookupQuery all() {
        return new LookupQuery(List.of(), OptionalInt.empty(), OptionalInt.empty());
    }

    /**
     * @param name the attribute name
     * @param value the value; a trailing {@code *} makes it a prefix
     * @return a copy with one more filter
     */
    public LookupQuery where(String name, String value) {
        List<Filter> more = new ArrayList<>(filters);
        more.add(new Filter(name, value));
        return new LookupQuery(more, page, count);
    }

    /**
     * @param pageNumber the zero-based page
     * @param pageSize the page size
     * @return a copy that returns only that page
     */
    public LookupQuery page(int pageNumber, int pageSize) {
        return new LookupQuery(filters, OptionalInt.of(pageNumber), OptionalInt.of(pageSize));
    }

    /**
     * One attribute filter.
     *
     * @param name the attribute name, e.g. {@code rt}
     * @param value the value; a trailing {@code *} makes it a prefix match
     */
    public record Filter(String name, String value) {
        /**
         * @param name the attribute name
         * @param value the value
         * @throws NullPointerException if an argument is null
         * @throws IllegalArgumentException if the name is empty
         */
        public Filter {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(value, "value");
            if (name.isEmpty()) {
                throw new IllegalArgumentException("filter name must not be empty");
            }
        }

        /**
         * @param candidate an attribute value
         * @return whether this filter's value matches it (exactly, or as a prefix with a star)
         */
        public boolean matches(String candidate) {
            if (value.endsWith("*")) {
                return candidate.startsWith(value.substring(0, value.length() - 1));
            }
            return candidate.equals(value);
        }

        /**
         * @param candidates an attribute's values
         * @return whether any of them matches
         */
        public boolean matchesAny(List<String> candidates) {
            for (String c : candidates) {
                if (matches(c)) {
                    return true;
                }
            }
            return false;
        }
    }
}
