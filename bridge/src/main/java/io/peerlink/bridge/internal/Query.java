package io.peerlink.bridge.internal;

import io.peerlink.LookupQuery;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/**
 * The Uri-Query options of a CoAP request as name/value pairs ({@code name} alone has the value
 * {@code ""}), in order. CoAP carries each pair as one option, already percent-decoded.
 *
 * @param pairs the pairs in request order
 */
public record Query(List<Map.Entry<String, String>> pairs) {
    /** Most query options accepted on one request. */
    public static final int MAX_PAIRS = 64;

    /**
     * @param options the Uri-Query option values
     * @return the pairs
     * @throws IllegalArgumentException if there are too many or one has an empty name
     */
    public static Query parse(List<String> options) {
        if (options.size() > MAX_PAIRS) {
            throw new IllegalArgumentException("more than " + MAX_PAIRS + " query options");
        }
        List<Map.Entry<String, String>> pairs = new ArrayList<>(options.size());
        for (String option : options) {
            int eq = option.indexOf('=');
            String name = eq < 0 ? option : option.substring(0, eq);
            if (name.isEmpty()) {
                throw new IllegalArgumentException("query option '" + option + "' has no name");
            }
            pairs.add(Map.entry(name, eq < 0 ? "" : option.substring(eq + 1)));
        }
        return new Query(List.copyOf(pairs));
    }

    /**
     * @param name a parameter name
     * @return its only value, or null if absent
     * @throws IllegalArgumentException if it appears more than once
     */
    public String single(String name) {
        String found = null;
        for (Map.Entry<String, String> p : pairs) {
            if (p.getKey().equals(name)) {
                if (found != null) {
                    throw new IllegalArgumentException("parameter '" + name + "' appears more than once");
                }
                found = p.getValue();
            }
        }
        return found;
    }

    /**
     * @param name a parameter name
     * @param max the largest value allowed
     * @return its value as a non-negative number, if present
     * @throws IllegalArgumentException if it is not a decimal number in 0..max
     */
    public OptionalInt number(String name, long max) {
        String v = single(name);
        if (v == null) {
            return OptionalInt.empty();
        }
        return OptionalInt.of((int) Math.min(Integer.MAX_VALUE, parseBounded(name, v, max)));
    }

    /**
     * @param name the parameter's name, for the message
     * @param text the value
     * @param max the largest value allowed
     * @return the value
     * @throws IllegalArgumentException if it is not a decimal number in 0..max
     */
    public static long parseBounded(String name, String text, long max) {
        if (text.isEmpty() || text.length() > 19 || !text.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new IllegalArgumentException(name + " must be a decimal number: '" + text + "'");
        }
        long v = Long.parseLong(text);
        if (v > max) {
            throw new IllegalArgumentException(name + " must be at most " + max + ": " + text);
        }
        return v;
    }

    /**
     * A lookup query: {@code page} and {@code count} are paging, every other pair a filter.
     *
     * @return the lookup
     * @throws IllegalArgumentException if paging values are malformed
     */
    public LookupQuery toLookup() {
        OptionalInt page = number("page", Integer.MAX_VALUE);
        OptionalInt count = number("count", Integer.MAX_VALUE);
        List<LookupQuery.Filter> filters = new ArrayList<>();
        for (Map.Entry<String, String> p : pairs) {
            if (!p.getKey().equals("page") && !p.getKey().equals("count")) {
                filters.add(new LookupQuery.Filter(p.getKey(), p.getValue()));
            }
        }
        // RFC 9176 section 6.1: a page without a count uses the server's page size.
        if (page.isPresent() && count.isEmpty()) {
            count = OptionalInt.of(100);
        }
        return new LookupQuery(filters, page, count);
    }
}
