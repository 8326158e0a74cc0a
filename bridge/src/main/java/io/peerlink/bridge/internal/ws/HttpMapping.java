package io.peerlink.bridge.internal.ws;

import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.MediaTypeRegistry;

import java.util.Locale;
import java.util.OptionalInt;

/**
 * The translation tables between CoAP and HTTP: status codes (RFC 8075 section 7 for CoAP to
 * HTTP, its inverse with RFC 7252 section 10.2's per-method success codes for HTTP to CoAP) and
 * Content-Format numbers to media types (RFC 7252 section 12.3 and the IANA registry).
 */
public final class HttpMapping {
    private HttpMapping() {
    }

    /**
     * HTTP status of a web service to the CoAP response code of the virtual resource.
     *
     * @param status the HTTP status
     * @param method the HTTP method that was called
     * @return the CoAP response code
     */
    public static ResponseCode toCoap(int status, String method) {
        if (status >= 200 && status < 300) {
            if (status == 201) {
                return ResponseCode.CREATED;
            }
            switch (method) {
                case "GET":
                    return status == 204 ? ResponseCode.CHANGED : ResponseCode.CONTENT;
                case "DELETE":
                    return ResponseCode.DELETED;
                default:
                    return ResponseCode.CHANGED;
            }
        }
        switch (status) {
            case 304:
                return ResponseCode.VALID;
            case 400:
                return ResponseCode.BAD_REQUEST;
            case 401:
                return ResponseCode.UNAUTHORIZED;
            case 403:
                return ResponseCode.FORBIDDEN;
            case 404:
            case 410:
                return ResponseCode.NOT_FOUND;
            case 405:
                return ResponseCode.METHOD_NOT_ALLOWED;
            case 406:
                return ResponseCode.NOT_ACCEPTABLE;
            case 409:
                return ResponseCode.CONFLICT;
            case 412:
                return ResponseCode.PRECONDITION_FAILED;
            case 413:
                return ResponseCode.REQUEST_ENTITY_TOO_LARGE;
            case 415:
                return ResponseCode.UNSUPPORTED_CONTENT_FORMAT;
            case 422:
                return ResponseCode.UNPROCESSABLE_ENTITY;
            case 429:
                return ResponseCode.TOO_MANY_REQUESTS;
            case 501:
                return ResponseCode.NOT_IMPLEMENTED;
            case 502:
                return ResponseCode.BAD_GATEWAY;
            case 503:
                return ResponseCode.SERVICE_UNAVAILABLE;
            case 504:
                return ResponseCode.GATEWAY_TIMEOUT;
            default:
                if (status >= 400 && status < 500) {
                    return ResponseCode.BAD_REQUEST;
                }
                // 1xx, other 3xx (redirects are not followed) and other 5xx: the service failed us.
                return status >= 500 ? ResponseCode.INTERNAL_SERVER_ERROR : ResponseCode.BAD_GATEWAY;
        }
    }

    /**
     * CoAP response code of a device to the HTTP status an HTTP client gets (RFC 8075 section 7).
     *
     * @param code the CoAP response code
     * @return the HTTP status
     */
    public static int toHttp(ResponseCode code) {
        switch (code) {
            case CREATED:
                return 201;
            case DELETED:
            case CHANGED:
            case CONTENT:
                return 200;
            case VALID:
                return 304;
            case BAD_REQUEST:
            case BAD_OPTION:
            case METHOD_NOT_ALLOWED:
            case REQUEST_ENTITY_INCOMPLETE:
                return 400;
            case UNAUTHORIZED:
            case FORBIDDEN:
                return 403;
            case NOT_FOUND:
                return 404;
            case NOT_ACCEPTABLE:
                return 406;
            case CONFLICT:
                return 409;
            case PRECONDITION_FAILED:
                return 412;
            case REQUEST_ENTITY_TOO_LARGE:
                return 413;
            case UNSUPPORTED_CONTENT_FORMAT:
                return 415;
            case UNPROCESSABLE_ENTITY:
                return 422;
            case TOO_MANY_REQUESTS:
                return 429;
            case NOT_IMPLEMENTED:
                return 501;
            case BAD_GATEWAY:
            case PROXY_NOT_SUPPORTED:
                return 502;
            case SERVICE_UNAVAILABLE:
                return 503;
            case GATEWAY_TIMEOUT:
                return 504;
            default:
                return 500;
        }
    }

    /**
     * @param mediaType an HTTP Content-Type, parameters allowed
     * @return its CoAP Content-Format, if it has one
     */
    public static OptionalInt contentFormat(String mediaType) {
        if (mediaType == null) {
            return OptionalInt.empty();
        }
        String m = mediaType.toLowerCase(Locale.ROOT).trim();
        int semi = m.indexOf(';');
        String bare = semi < 0 ? m : m.substring(0, semi).trim();
        switch (bare) {
            case "text/plain":
                return OptionalInt.of(MediaTypeRegistry.TEXT_PLAIN);
            case "application/link-format":
                return OptionalInt.of(MediaTypeRegistry.APPLICATION_LINK_FORMAT);
            case "application/xml":
                return OptionalInt.of(MediaTypeRegistry.APPLICATION_XML);
            case "application/octet-stream":
                return OptionalInt.of(MediaTypeRegistry.APPLICATION_OCTET_STREAM);
            case "application/json":
                return OptionalInt.of(MediaTypeRegistry.APPLICATION_JSON);
            case "application/cbor":
                return OptionalInt.of(MediaTypeRegistry.APPLICATION_CBOR);
            default:
                return OptionalInt.empty();
        }
    }

    /**
     * @param contentFormat a CoAP Content-Format
     * @return the HTTP media type, or null if the bridge does not translate it
     */
    public static String mediaType(int contentFormat) {
        switch (contentFormat) {
            case MediaTypeRegistry.TEXT_PLAIN:
                return "text/plain;charset=utf-8";
            case MediaTypeRegistry.APPLICATION_LINK_FORMAT:
                return "application/link-format";
            case MediaTypeRegistry.APPLICATION_XML:
                return "application/xml";
            case MediaTypeRegistry.APPLICATION_OCTET_STREAM:
                return "application/octet-stream";
            case MediaTypeRegistry.APPLICATION_JSON:
                return "application/json";
            case MediaTypeRegistry.APPLICATION_CBOR:
                return "application/cbor";
            default:
                return null;
        }
    }

    /**
     * @param mediaType an HTTP Content-Type
     * @return whether it is JSON ({@code application/json} or {@code +json})
     */
    public static boolean isJson(String mediaType) {
        if (mediaType == null) {
            return false;
        }
        String m = mediaType.toLowerCase(Locale.ROOT);
        int semi = m.indexOf(';');
        String bare = (semi < 0 ? m : m.substring(0, semi)).trim();
        return bare.equals("application/json") || bare.endsWith("+json");
    }
}
