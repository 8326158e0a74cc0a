package io.peerlink.bridge.internal;

import io.peerlink.RegistrationNotFoundException;

import org.eclipse.californium.core.CoapResource;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.MediaTypeRegistry;
import org.eclipse.californium.core.server.resources.CoapExchange;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A CoAP resource whose handlers turn exceptions into precise CoAP errors with a diagnostic
 * payload (RFC 7252 section 5.5.2), so one client's bad request never reaches Californium's
 * generic error path and never disturbs anyone else.
 */
abstract class GuardedResource extends CoapResource {
    private static final Logger LOG = Logger.getLogger(GuardedResource.class.getName());

    GuardedResource(String name) {
        super(name);
    }

    GuardedResource(String name, boolean visible) {
        super(name, visible);
    }

    /** A handler body that may throw. */
    interface Body {
        void run() throws Exception;
    }

    static void guard(CoapExchange exchange, Body body) {
        try {
            body.run();
        } catch (RegistrationNotFoundException e) {
            exchange.respond(ResponseCode.NOT_FOUND, e.getMessage(), MediaTypeRegistry.TEXT_PLAIN);
        } catch (UnsupportedFormatException e) {
            exchange.respond(ResponseCode.UNSUPPORTED_CONTENT_FORMAT, e.getMessage(), MediaTypeRegistry.TEXT_PLAIN);
        } catch (NotAcceptableException e) {
            exchange.respond(ResponseCode.NOT_ACCEPTABLE, e.getMessage(), MediaTypeRegistry.TEXT_PLAIN);
        } catch (IllegalArgumentException e) {
            exchange.respond(ResponseCode.BAD_REQUEST, e.getMessage(), MediaTypeRegistry.TEXT_PLAIN);
        } catch (Exception e) {
            LOG.log(Level.WARNING, "request failed inside the bridge", e);
            exchange.respond(ResponseCode.INTERNAL_SERVER_ERROR, "internal error: " + e.getClass().getSimpleName(),
                    MediaTypeRegistry.TEXT_PLAIN);
        }
    }

    /**
     * @param exchange the request
     * @return its payload as strict UTF-8
     * @throws IllegalArgumentException if it is not valid UTF-8
     */
    static String utf8Payload(CoapExchange exchange) {
        byte[] bytes = exchange.getRequestPayload();
        if (bytes == null || bytes.length == 0) {
            return "";
        }
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("payload is not valid UTF-8");
        }
    }

    /**
     * @param exchange the request
     * @param allowed the content formats the handler reads
     * @throws UnsupportedFormatException if the request names another one
     */
    static void requireContentFormat(CoapExchange exchange, int... allowed) {
        if (!exchange.getRequestOptions().hasContentFormat()) {
            return;
        }
        int ct = exchange.getRequestOptions().getContentFormat();
        for (int a : allowed) {
            if (a == ct) {
                return;
            }
        }
        throw new UnsupportedFormatException("content format " + ct + " is not supported here");
    }

    /**
     * @param exchange the request
     * @param preferred the format when the request has no Accept option
     * @param offered the formats the handler can produce
     * @return the format to answer in
     * @throws NotAcceptableException if the Accept option names another one
     */
    static int negotiate(CoapExchange exchange, int preferred, int... offered) {
        if (!exchange.getRequestOptions().hasAccept()) {
            return preferred;
        }
        int accept = exchange.getRequestOptions().getAccept();
        for (int o : offered) {
            if (o == accept) {
                return o;
            }
        }
        throw new NotAcceptableException("cannot answer in content format " + accept);
    }

    /** The request's Content-Format is not one the handler reads: 4.15. */
    static final class UnsupportedFormatException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;

        UnsupportedFormatException(String message) {
            super(message);
        }
    }

    /** The request's Accept option names a format the handler cannot produce: 4.06. */
    static final class NotAcceptableException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;

        NotAcceptableException(String message) {
            super(message);
        }
    }
}
