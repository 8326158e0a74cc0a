package io.peerlink.gateway.internal;

import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Runs before engine.io sees a request. New Engine.IO sessions (requests without {@code sid},
 * both polling handshakes and WebSocket upgrades) are admitted per remote address by a token
 * bucket, so one client's connect storm is answered with 429 and costs the others nothing.
 * Polling bodies must declare their length and stay under the message limit: engine.io
 * buffers a whole body in memory.
 */
public final class AdmissionHandler extends Handler.Wrapper {

    private final double connectsPerSecond;
    private final int connectBurst;
    private final long maxBodyBytes;
    private final Map<String, TokenBucket> buckets = new ConcurrentHashMap<>();

    public AdmissionHandler(double connectsPerSecond, int connectBurst, long maxBodyBytes) {
        this.connectsPerSecond = connectsPerSecond;
        this.connectBurst = connectBurst;
        this.maxBodyBytes = maxBodyBytes;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
        String query = request.getHttpURI().getQuery();
        boolean handshake = query == null || !(query.startsWith("sid=") || query.contains("&sid="));
        long now = System.nanoTime();
        if (handshake) {
            String address = Request.getRemoteAddr(request);
            TokenBucket b = buckets.computeIfAbsent(address, a -> new TokenBucket(connectsPerSecond, connectBurst, now));
            if (!b.tryTake(now)) {
                Response.writeError(request, response, callback, HttpStatus.TOO_MANY_REQUESTS_429,
                        "too many new connections from " + address);
                return true;
            }
            if (buckets.size() > 10_000) {
                buckets.values().removeIf(t -> t.isFull(now));
            }
        }
        if (HttpMethod.POST.is(request.getMethod())) {
            long length = request.getLength();
            if (length < 0 && request.getHeaders().get(HttpHeader.TRANSFER_ENCODING) != null) {
                Response.writeError(request, response, callback, HttpStatus.LENGTH_REQUIRED_411,
                        "polling bodies must carry Content-Length");
                return true;
            }
            if (length > maxBodyBytes) {
                Response.writeError(request, response, callback, HttpStatus.PAYLOAD_TOO_LARGE_413,
                        "body of " + length + " bytes exceeds the limit of " + maxBodyBytes);
                return true;
            }
        }
        return super.handle(request, response, callback);
    }
}
