package io.peerlink.bridge.internal;

import io.peerlink.DirectoryEvent;
import io.peerlink.LookupQuery;
import io.peerlink.Registration;
import io.peerlink.RegistrationNotFoundException;
import io.peerlink.RegistrationRequest;
import io.peerlink.ResourceLink;

import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The resource directory's state and rules (RFC 9176 sections 5 and 6), independent of CoAP:
 * registration, update, removal, expiry and lookup. Thread-safe: lookups share a read lock,
 * changes take the write lock and are written through to the {@link RegistrationStore} before
 * they become visible, so a change a client saw acknowledged survives a restart.
 */
public final class Directory {
    /** Registration resources live under this path. */
    public static final String RD_PATH = "/rd/";

    private final Clock clock;
    private final RegistrationStore store;
    private final EventDispatcher events;
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private final Map<String, Registration> byLocation = new LinkedHashMap<>();
    private final Map<String, String> locationByName = new LinkedHashMap<>();
    /**
     * Exact-value indexes for the filters lookups use most ({@code ep}, {@code d}, {@code rt}):
     * attribute value to the locations that carry it, so a filtered lookup over 10,000 endpoints
     * visits only the candidates instead of every link.
     */
    private final Map<String, Map<String, java.util.Set<String>>> indexes = Map.of(
            "ep", new java.util.HashMap<>(), "d", new java.util.HashMap<>(), "rt", new java.util.HashMap<>());
    private long nextId = 1;

    /**
     * Loads the store, dropping registrations that expired while the directory was down.
     *
     * @param clock the time source for lifetimes
     * @param store where registrations are persisted
     * @param events where changes are published
     */
    public Directory(Clock clock, RegistrationStore store, EventDispatcher events) {
        this.clock = Objects.requireNonNull(clock, "clock");
        this.store = Objects.requireNonNull(store, "store");
        this.events = Objects.requireNonNull(events, "events");
        Instant now = clock.instant();
        for (Registration r : store.load()) {
            if (r.expires().isAfter(now)) {
                index(r);
                nextId = Math.max(nextId, idOf(r.location()) + 1);
            } else {
                store.delete(r.location());
            }
        }
    }

    private static long idOf(String location) {
        try {
            return Long.parseLong(location.substring(RD_PATH.length()), 36);
        } catch (RuntimeException e) {
            return 0;
        }
    }

    private static String nameKey(String endpointName, Optional<String> sector) {
        return sector.orElse("") + '\u0000' + endpointName;
    }

    private void index(Registration r) {
        Registration old = byLocation.put(r.location(), r);
        if (old != null) {
            indexValues(old, false);
        }
        indexValues(r, true);
        locationByName.put(nameKey(r.endpointName(), r.sector()), r.location());
    }

    private void indexValues(Registration r, boolean add) {
        index("ep", r.endpointName(), r.location(), add);
        r.sector().ifPresent(d -> index("d", d, r.location(), add));
        String rt = r.attributes().get("rt");
        if (rt != null) {
            index("rt", rt, r.location(), add);
        }
        for (ResourceLink link : r.links()) {
            for (String t : link.resourceTypes()) {
                index("rt", t, r.location(), add);
            }
        }
    }

    private void index(String name, String value, String location, boolean add) {
        Map<String, java.util.Set<String>> index = indexes.get(name);
        if (add) {
            index.computeIfAbsent(value, v -> new java.util.HashSet<>()).add(location);
        } else {
            java.util.Set<String> set = index.get(value);
            if (set != null && set.remove(location) && set.isEmpty()) {
                index.remove(value);
            }
        }
    }

    /**
     * The registrations a lookup must visit, in directory order: those in the smallest index set
     * of an exact {@code ep}, {@code d} or {@code rt} filter, or all of them. A link's own {@code ep}
     * or {@code d} attribute is not indexed: those are registration parameters (RFC 9176).
     */
    private Iterable<Registration> candidates(List<LookupQuery.Filter> filters) {
        java.util.Set<String> best = null;
        for (LookupQuery.Filter f : filters) {
            Map<String, java.util.Set<String>> index = indexes.get(f.name());
            if (index == null || f.value().endsWith("*")) {
                continue;
            }
            java.util.Set<String> set = index.getOrDefault(f.value(), java.util.Set.of());
            if (best == null || set.size() < best.size()) {
                best = set;
            }
        }
        // A filter most registrations pass gains nothing from the index: scan in directory order.
        if (best == null || best.size() * 4L > byLocation.size()) {
            return byLocation.values();
        }
        long[] keys = new long[best.size()];
        int n = 0;
        for (String location : best) {
            keys[n++] = idOf(location);
        }
        java.util.Arrays.sort(keys);
        List<Registration> out = new ArrayList<>(n);
        for (long id : keys) {
            Registration r = byLocation.get(RD_PATH + Long.toString(id, 36));
            if (r != null) {
                out.add(r);
            }
        }
        return out;
    }

    /**
     * Registers an endpoint, or replaces the registration of the same name and sector while
     * keeping its location (RFC 9176 section 5: registration is idempotent).
     *
     * @param request what to register
     * @param sourceBase the base URI when the request names none (the request's source)
     * @return the registration
     */
    public Registration register(RegistrationRequest request, URI sourceBase) {
        lock.writeLock().lock();
        try {
            String key = nameKey(request.endpointName(), request.sector());
            String location = locationByName.get(key);
            if (location == null) {
                location = RD_PATH + Long.toString(nextId++, 36);
            }
            Instant now = clock.instant();
            Registration r = new Registration(location, request.endpointName(), request.sector(),
                    request.base().orElse(sourceBase), request.endpointType(), request.lifetime(),
                    now.plus(request.lifetime()), request.attributes(), request.links());
            store.put(r);
            index(r);
            events.publish(new DirectoryEvent.Registered(r));
            return r;
        } finally {
            lock.writeLock().unlock();
        }
    }

    /**
     * Updates a registration (RFC 9176 section 5.3.1): the lifetime restarts, and a new lifetime,
     * base or attribute values replace the old ones. Attributes given with an empty value are
     * removed.
     *
     * @param location the registration
     * @param lifetime a new lifetime, if given
     * @param base a new base URI, if given
     * @param attributes attributes to set (empty value: remove)
     * @return the updated registration
     * @throws RegistrationNotFoundException if there is none at that location
     */
    public Registration update(String location, Optional<Duration> lifetime, Optional<URI> base,
                               Map<String, String> attributes) {
        lock.writeLock().lock();
        try {
            Registration old = live(location);
            Map<String, String> merged = new LinkedHashMap<>(old.attributes());
            attributes.forEach((k, v) -> {
                if (v.isEmpty()) {
                    merged.remove(k);
                } else {
                    merged.put(k, v);
                }
            });
            Duration lt = lifetime.orElse(old.lifetime());
            // Validate through the request type so updates obey the same rules as registrations.
            RegistrationRequest check = new RegistrationRequest(old.endpointName(), old.sector(), base,
                    old.endpointType(), lt, merged, List.of());
            Registration r = new Registration(location, old.endpointName(), old.sector(), base.orElse(old.base()),
                    old.endpointType(), check.lifetime(), clock.instant().plus(lt), check.attributes(), old.links());
            store.put(r);
            index(r);
            events.publish(new DirectoryEvent.Updated(r));
            return r;
        } finally {
            lock.writeLock().unlock();
        }
    }

    /**
     * Replaces a registration's links, keeping its parameters and expiry (OCF's partial
     * {@code DELETE /oic/rd?ins=...}).
     *
     * @param location the registration
     * @param links the links it keeps
     * @return the changed registration
     * @throws RegistrationNotFoundException if there is none at that location
     */
    public Registration replaceLinks(String location, List<ResourceLink> links) {
        lock.writeLock().lock();
        try {
            Registration old = live(location);
            Registration r = new Registration(location, old.endpointName(), old.sector(), old.base(),
                    old.endpointType(), old.lifetime(), old.expires(), old.attributes(), links);
            store.put(r);
            index(r);
            events.publish(new DirectoryEvent.Updated(r));
            return r;
        } finally {
            lock.writeLock().unlock();
        }
    }

    /**
     * @param location the registration
     * @return the removed registration
     * @throws RegistrationNotFoundException if there is none at that location
     */
    public Registration remove(String location) {
        lock.writeLock().lock();
        try {
            Registration r = live(location);
            drop(r);
            events.publish(new DirectoryEvent.Removed(r));
            return r;
        } finally {
            lock.writeLock().unlock();
        }
    }

    private void drop(Registration r) {
        store.delete(r.location());
        byLocation.remove(r.location());
        indexValues(r, false);
        locationByName.remove(nameKey(r.endpointName(), r.sector()));
    }

    private Registration live(String location) {
        Registration r = byLocation.get(location);
        if (r == null || !r.expires().isAfter(clock.instant())) {
            throw new RegistrationNotFoundException(location);
        }
        return r;
    }

    /**
     * @param location a registration location
     * @return the live registration there, if any
     */
    public Optional<Registration> get(String location) {
        lock.readLock().lock();
        try {
            Registration r = byLocation.get(location);
            return r != null && r.expires().isAfter(clock.instant()) ? Optional.of(r) : Optional.empty();
        } finally {
            lock.readLock().unlock();
        }
    }

    /**
     * @param endpointName an endpoint name
     * @param sector its sector
     * @return its live registration, if any
     */
    public Optional<Registration> byName(String endpointName, Optional<String> sector) {
        lock.readLock().lock();
        try {
            String location = locationByName.get(nameKey(endpointName, sector));
            return location == null ? Optional.empty() : get(location);
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Removes every registration whose lifetime ran out and publishes an {@code Expired} event for each. */
    public void expire() {
        Instant now = clock.instant();
        lock.writeLock().lock();
        try {
            List<Registration> dead = new ArrayList<>();
            for (Registration r : byLocation.values()) {
                if (!r.expires().isAfter(now)) {
                    dead.add(r);
                }
            }
            for (Registration r : dead) {
                drop(r);
                events.publish(new DirectoryEvent.Expired(r));
            }
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** @return how many live and not yet swept registrations there are */
    public int size() {
        lock.readLock().lock();
        try {
            return byLocation.size();
        } finally {
            lock.readLock().unlock();
        }
    }

    /**
     * Endpoint lookup (RFC 9176 section 6.3). A filter on a registration parameter ({@code ep},
     * {@code d}, {@code et}, {@code base}, {@code lt}, {@code href} for the location, or an
     * extension attribute) matches the registration; a filter on anything else matches if one of
     * the endpoint's links carries it.
     *
     * @param query filters and paging
     * @return the matching registrations
     */
    public List<Registration> lookupEndpoints(LookupQuery query) {
        List<Registration> out = new ArrayList<>();
        Instant now = clock.instant();
        lock.readLock().lock();
        try {
            for (Registration r : candidates(query.filters())) {
                if (r.expires().isAfter(now) && endpointMatches(r, query.filters())) {
                    out.add(r);
                }
            }
        } finally {
            lock.readLock().unlock();
        }
        return page(out, query);
    }

    /**
     * Resource lookup (RFC 9176 section 6.2). Each filter must match the link's own attribute, or
     * (when the link does not carry it) a registration parameter of its endpoint.
     *
     * @param query filters and paging
     * @return matching links, targets made absolute against the endpoint's base, anchored at it
     */
    public List<ResourceLink> lookupResources(LookupQuery query) {
        List<ResourceLink> out = new ArrayList<>();
        for (Map.Entry<Registration, ResourceLink> e : matchingLinks(query)) {
            out.add(resolve(e.getKey(), e.getValue()));
        }
        return out;
    }

    /**
     * @param query filters and paging
     * @return the matching links as registered, each with its registration
     */
    public List<Map.Entry<Registration, ResourceLink>> matchingLinks(LookupQuery query) {
        List<Map.Entry<Registration, ResourceLink>> out = new ArrayList<>();
        Instant now = clock.instant();
        long skip = (long) query.page().orElse(0) * query.count().orElse(0);
        int limit = query.count().orElse(Integer.MAX_VALUE);
        if (limit == 0) {
            return out;
        }
        lock.readLock().lock();
        try {
            for (Registration r : candidates(query.filters())) {
                if (!r.expires().isAfter(now)) {
                    continue;
                }
                for (ResourceLink link : r.links()) {
                    if (linkMatches(r, link, query.filters())) {
                        if (skip > 0) {
                            skip--;
                            continue;
                        }
                        out.add(Map.entry(r, link));
                        if (out.size() == limit) {
                            return out;
                        }
                    }
                }
            }
        } finally {
            lock.readLock().unlock();
        }
        return out;
    }

    /**
     * @param r a registration
     * @param link one of its links
     * @return the link with an absolute target and the base (or its resolved anchor) as anchor
     */
    public static ResourceLink resolve(Registration r, ResourceLink link) {
        URI base = r.base();
        String target = resolveAgainst(base, link.target());
        String anchor = link.anchor().map(a -> resolveAgainst(base, a)).orElse(base.toString());
        ResourceLink.Builder b = ResourceLink.builder(target);
        link.relation().forEach(b::relation);
        link.resourceTypes().forEach(b::resourceType);
        link.interfaces().forEach(b::interfaceDescription);
        link.contentFormats().forEach(b::contentFormat);
        link.maxSize().ifPresent(b::maxSize);
        link.title().ifPresent(b::title);
        b.observable(link.observable());
        link.extensions().forEach((k, vs) -> vs.forEach(v -> b.attribute(k, v)));
        return b.anchor(anchor).build();
    }

    private static String resolveAgainst(URI base, String ref) {
        try {
            URI uri = URI.create(ref);
            if (uri.isAbsolute()) {
                return ref;
            }
            // java.net.URI resolves "temp" against "coap://h:1" to "coap://h:1temp": give it a path.
            URI rooted = base.getRawPath() == null || base.getRawPath().isEmpty() ? base.resolve("/") : base;
            return rooted.resolve(uri).toString();
        } catch (IllegalArgumentException e) {
            return ref;
        }
    }

    private static <T> List<T> page(List<T> all, LookupQuery query) {
        if (query.count().isEmpty()) {
            return all;
        }
        long from = (long) query.page().orElse(0) * query.count().getAsInt();
        if (from >= all.size()) {
            return List.of();
        }
        return List.copyOf(all.subList((int) from, (int) Math.min(all.size(), from + query.count().getAsInt())));
    }

    /**
     * @param r a registration
     * @param name a parameter name
     * @return the registration's values for it, or null if it is not a registration parameter
     */
    static List<String> registrationValues(Registration r, String name) {
        switch (name) {
            case "ep":
                return List.of(r.endpointName());
            case "d":
                return r.sector().map(List::of).orElse(List.of());
            case "et":
                return r.endpointType().map(List::of).orElse(List.of());
            case "base":
                return List.of(r.base().toString());
            case "lt":
                return List.of(String.valueOf(r.lifetime().getSeconds()));
            default:
                String v = r.attributes().get(name);
                return v == null ? null : List.of(v);
        }
    }

    private static boolean endpointMatches(Registration r, List<LookupQuery.Filter> filters) {
        for (LookupQuery.Filter f : filters) {
            List<String> values = f.name().equals("href") ? List.of(r.location()) : registrationValues(r, f.name());
            if (values != null) {
                if (!f.matchesAny(values)) {
                    return false;
                }
                continue;
            }
            boolean anyLink = false;
            for (ResourceLink link : r.links()) {
                if (f.matchesAny(link.attribute(f.name()))) {
                    anyLink = true;
                    break;
                }
            }
            if (!anyLink) {
                return false;
            }
        }
        return true;
    }

    private static boolean linkMatches(Registration r, ResourceLink link, List<LookupQuery.Filter> filters) {
        for (LookupQuery.Filter f : filters) {
            List<String> values = link.attribute(f.name());
            if (f.name().equals("href")) {
                if (!f.matches(link.target()) && !f.matches(resolveAgainst(r.base(), link.target()))) {
                    return false;
                }
                continue;
            }
            if (values.isEmpty()) {
                List<String> reg = registrationValues(r, f.name());
                values = reg == null ? List.of() : reg;
            }
            if (!f.matchesAny(values)) {
                return false;
            }
        }
        return true;
    }
}
