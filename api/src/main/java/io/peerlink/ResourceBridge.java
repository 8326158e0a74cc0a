package io.peerlink;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.Consumer;

/**
 * A CoAP resource directory (RFC 9176, plus the OCF {@code /oic/rd} and {@code /oic/res} shapes)
 * served on a CoAP endpoint, with the same directory reachable from Java code.
 *
 * <p>Obtained from {@link PeerLinks#resourceBridge()}, which finds the implementation
 * ({@code io.peerlink:peerlink-bridge}) through its own provider,
 * {@link io.peerlink.runtime.ResourceBridgeProvider}, independently of the link runtime:
 *
 * <pre>{@code
 * try (ResourceBridge bridge = PeerLinks.resourceBridge()
 *         .coap(new InetSocketAddress(5683))
 *         .start().toCompletableFuture().join()) {
 *     bridge.subscribe(event -> System.out.println(event));
 *     bridge.register(RegistrationRequest.of("node1",
 *             List.of(ResourceLink.builder("/temp").resourceType("temperature").build()),
 *             Duration.ofMinutes(10)));
 *     List<ResourceLink> temps = bridge.lookupResources(LookupQuery.all().where("rt", "temp*"))
 *             .toCompletableFuture().join();
 * }
 * }</pre>
 *
 * <p>Every method is thread-safe and returns without waiting for I/O; results complete on a
 * bridge thread. Failures complete the stage exceptionally with a {@link PeerLinkException}
 * (or {@link IllegalArgumentException} for an invalid argument); nothing is thrown except
 * {@link NullPointerException} for a null argument and {@link IllegalStateException} after
 * {@link #close()}.
 */
public interface ResourceBridge extends AutoCloseable {

    /** @return the CoAP endpoint the directory is served on, e.g. {@code coap://0.0.0.0:5683} */
    Endpoint endpoint();

    /**
     * Registers an endpoint's resources, as a CoAP {@code POST /rd} would. Re-registering the
     * same endpoint name and sector replaces the links and keeps the location.
     *
     * @param request what to register
     * @return the registration, with its location, e.g. {@code /rd/4521}
     */
    CompletionStage<Registration> register(RegistrationRequest request);

    /**
     * Refreshes a registration's lifetime (RFC 9176 section 5.3.1, {@code POST /rd/4521}).
     *
     * @param location the registration's location
     * @return the updated registration; fails with {@link RegistrationNotFoundException}
     */
    CompletionStage<Registration> update(String location);

    /**
     * Removes a registration ({@code DELETE /rd/4521}).
     *
     * @param location the registration's location
     * @return completes when removed; fails with {@link RegistrationNotFoundException}
     */
    CompletionStage<Void> remove(String location);

    /**
     * Endpoint lookup ({@code GET /rd-lookup/ep}).
     *
     * @param query filters on registration parameters (and on links: an endpoint matches if one
     *        of its links does), and paging
     * @return the matching registrations, ordered by location
     */
    CompletionStage<List<Registration>> lookupEndpoints(LookupQuery query);

    /**
     * Resource lookup ({@code GET /rd-lookup/res}).
     *
     * @param query filters on link attributes and their endpoints' registration parameters, and
     *        paging
     * @return the matching links with absolute targets and the endpoint's base as anchor
     */
    CompletionStage<List<ResourceLink>> lookupResources(LookupQuery query);

    /**
     * @return the web services exposed as virtual resources, with any problems found in their
     *         descriptions; empty when no description directory is configured
     */
    List<VirtualService> virtualServices();

    /**
     * Adds a listener for directory changes. Listeners run one event at a time, in order, on the
     * executor given to {@link Builder#eventExecutor} (a bridge thread by default); a listener
     * that throws is logged and keeps receiving.
     *
     * @param listener receives each event
     * @return a handle whose {@code close()} removes the listener
     */
    Subscription subscribe(Consumer<? super DirectoryEvent> listener);

    /** Stops serving and releases the socket and the store. Idempotent. */
    @Override
    void close();

    /** Removes a listener added with {@link #subscribe}. */
    interface Subscription extends AutoCloseable {
        /** Removes the listener; events already queued may still arrive. Idempotent. */
        @Override
        void close();
    }

    /** Builds a {@link ResourceBridge}; not thread-safe. */
    interface Builder {
        /**
         * @param bindAddress the UDP address for the CoAP endpoint; port 0 picks a free port.
         *        Default: all interfaces, port 5683
         * @return this
         */
        Builder coap(InetSocketAddress bindAddress);

        /**
         * Keeps registrations in an embedded database file so they survive a restart (expired
         * ones are dropped when loaded). Default: memory only.
         *
         * @param databaseFile the database file (created if missing)
         * @return this
         */
        Builder storage(Path databaseFile);

        /**
         * @param executor where directory listeners run; default a single bridge thread
         * @return this
         */
        Builder eventExecutor(Executor executor);

        /**
         * Exposes the web services described in a directory as virtual CoAP resources: every
         * {@code *.yaml}, {@code *.yml} or {@code *.json} file (OpenAPI 3) and {@code *.raml} file
         * (RAML 1.0). Files are read at start and again when they change, appear or disappear.
         *
         * @param directory the description directory
         * @return this
         */
        Builder descriptions(Path directory);

        /**
         * Supplies a secret a description asks for (an API key), named
         * {@code <service>.<security scheme>}, e.g. {@code weather.appid}. Secrets come only from
         * here, never from a description file, and never appear in links or diagnostics.
         *
         * @param name the secret's name
         * @param value its value
         * @return this
         */
        Builder secret(String name, String value);

        /**
         * Overrides the HTTP base URL of one service (default: the description's first server
         * or {@code baseUri}).
         *
         * @param service the service name (description file name without extension)
         * @param baseUrl the base URL, e.g. {@code http://127.0.0.1:8081/api}
         * @return this
         */
        Builder serviceBase(String service, java.net.URI baseUrl);

        /**
         * @param timeout how long a virtual resource waits for the web service before answering
         *        5.04 Gateway Timeout; default 5 s
         * @return this
         */
        Builder httpTimeout(java.time.Duration timeout);

        /**
         * Binds the endpoint, loads the store and starts serving.
         *
         * @return completes with the running bridge, or exceptionally with a
         *         {@link PeerLinkException} if the socket cannot be bound or the store opened
         */
        CompletionStage<ResourceBridge> start();
    }
}
