package io.peerlink;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * A CoAP resource directory (RFC 9176, plus the OCF {@code /oic/rd} and {@code /oic/res} shapes)
 * and a bridge that exposes HTTP web services, described by OpenAPI 3 or RAML 1.0, as virtual
 * CoAP resources with RFC 8075 method, query, status-code and content-format translation.
 * Obtained from {@link PeerLinks#resourceBridge()}.
 */
public interface ResourceBridge extends AutoCloseable {

    /** @return the CoAP endpoint the directory and virtual resources are served on */
    Endpoint endpoint();

    /**
     * Registers (or refreshes) an endpoint's resources, as a POST to {@code /rd} would.
     *
     * @param endpointName the RFC 9176 {@code ep} name
     * @param links the endpoint's resources
     * @param lifetime how long the registration lives without a refresh
     * @return the registration resource's location, e.g. {@code /rd/4521}
     * @throws NullPointerException if an argument is null
     * @throws IllegalArgumentException if the name is empty or the lifetime not positive
     */
    String register(String endpointName, List<ResourceLink> links, Duration lifetime);

    /**
     * Resource lookup, as a GET to {@code /rd-lookup/res} with the given filter would.
     *
     * @param filter lookup filter attributes, e.g. {@code rt=temperature}; empty for all
     * @return the matching resources with absolute targets
     * @throws NullPointerException if filter is null
     */
    List<ResourceLink> lookup(Map<String, String> filter);

    /**
     * Generates virtual CoAP resources from a web-service description, forwarding requests to
     * the service.
     *
     * @param description an OpenAPI 3 (JSON/YAML) or RAML 1.0 document
     * @param serviceBase the base URL of the HTTP service
     * @return the CoAP paths created
     * @throws NullPointerException if an argument is null
     * @throws PeerLinkException if the description cannot be read or parsed
     */
    List<String> mount(URI description, URI serviceBase);

    /** Stops serving. Idempotent. */
    @Override
    void close();
}
