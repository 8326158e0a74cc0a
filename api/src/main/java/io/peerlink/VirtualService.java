package io.peerlink;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A web service exposed as virtual CoAP resources, generated from a description file (OpenAPI 3
 * or RAML 1.0) in the bridge's description directory; see
 * {@link ResourceBridge.Builder#descriptions(java.nio.file.Path)}.
 *
 * @param name the service name: the description file's name without extension; its resources
 *        live under {@code /ws/<name>/} and it is registered as endpoint {@code ws-<name>}
 * @param source the description file
 * @param serviceBase the HTTP base URL calls go to, if one is known
 * @param resources the CoAP resources, one per operation
 * @param problems what is wrong with the description as last read (empty when it loaded
 *        cleanly); when the file became unreadable after a good version, the good version keeps
 *        serving and the problems say why the new one was not taken
 */
public record VirtualService(String name, String source, Optional<java.net.URI> serviceBase,
                             List<ResourceLink> resources, List<String> problems) {
    /**
     * @param name the service name
     * @param source the description file
     * @param serviceBase the HTTP base URL
     * @param resources the CoAP resources
     * @param problems the problems
     * @throws NullPointerException if a component is null
     */
    public VirtualService {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(serviceBase, "serviceBase");
        resources = List.copyOf(resources);
        problems = List.copyOf(problems);
    }
}
