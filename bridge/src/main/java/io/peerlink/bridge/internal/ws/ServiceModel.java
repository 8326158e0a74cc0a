package io.peerlink.bridge.internal.ws;

import java.net.URI;
import java.util.List;
import java.util.Optional;

/**
 * What the bridge needs from a web-service description, whatever its format: the operations
 * with their parameters and media types, and the API-key parameters whose values come from
 * configuration.
 *
 * @param name the service name (file name without extension)
 * @param baseUrl the HTTP base URL from the description, if it gives an absolute one
 * @param operations the operations
 * @param secrets API-key parameters to add to every call
 */
public record ServiceModel(String name, Optional<URI> baseUrl, List<Operation> operations, List<SecretParam> secrets) {

    /** Where a parameter travels in the HTTP request. */
    public enum In {
        /** a {@code {name}} segment of the path template */
        PATH,
        /** the query string */
        QUERY,
        /** a request header */
        HEADER
    }

    /**
     * @param name the parameter name
     * @param in where it goes
     * @param required whether a call without it is refused
     */
    public record Param(String name, In in, boolean required) {
    }

    /**
     * @param scheme the security scheme's name in the description
     * @param in where the key goes
     * @param name the query parameter or header name
     */
    public record SecretParam(String scheme, In in, String name) {
    }

    /**
     * One HTTP operation, one CoAP resource.
     *
     * @param id the CoAP resource name under {@code /ws/<service>/}
     * @param method the HTTP method, upper case
     * @param pathTemplate the path with {@code {param}} segments, relative to the base URL
     * @param params the parameters
     * @param resourceType the {@code rt} the resource is registered with
     * @param title a human-readable summary, if any
     * @param requestMediaTypes media types the request body may have
     * @param responseMediaTypes media types of the success response
     */
    public record Operation(String id, String method, String pathTemplate, List<Param> params, String resourceType,
                            Optional<String> title, List<String> requestMediaTypes, List<String> responseMediaTypes) {
    }

    /**
     * Turns a name into a CoAP path segment and {@code rt} value: letters, digits, '-', '_', '.'.
     *
     * @param text any text
     * @return the sanitized form, never empty
     */
    public static String slug(String text) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_'
                    || c == '.') {
                out.append(c);
            } else if (out.length() > 0 && out.charAt(out.length() - 1) != '-') {
                out.append('-');
            }
        }
        while (out.length() > 0 && out.charAt(out.length() - 1) == '-') {
            out.setLength(out.length() - 1);
        }
        return out.length() == 0 ? "op" : out.toString();
    }
}
