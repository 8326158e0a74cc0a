package io.peerlink.gateway.internal;

import java.security.SecureRandom;
import java.util.Base64;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Server-issued authentication challenges. A nonce is valid for one answer only, by the
 * connection it was issued to, until its deadline: consuming removes it whatever the outcome,
 * so a captured (nonce, signature) pair can never be replayed and a wrong guess burns the nonce.
 */
public final class NonceRegistry {

    /** Why a nonce was refused; the names are sent to the gateway as error codes. */
    public enum Verdict { OK, UNKNOWN_NONCE, EXPIRED_NONCE }

    private record Issued(String connectionId, long deadlineNanos) {}

    private final SecureRandom random = new SecureRandom();
    private final Map<String, Issued> issued = new ConcurrentHashMap<>();
    private final long ttlNanos;

    public NonceRegistry(long ttlNanos) {
        this.ttlNanos = ttlNanos;
    }

    /** A fresh 32-byte nonce, base64url without padding, bound to {@code connectionId}. */
    public String issue(String connectionId, long nowNanos) {
        byte[] bytes = new byte[32];
        random.nextBytes(bytes);
        String nonce = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
        issued.put(nonce, new Issued(connectionId, nowNanos + ttlNanos));
        return nonce;
    }

    /** Removes {@code nonce} and says whether {@code connectionId} could still answer it. */
    public Verdict consume(String nonce, String connectionId, long nowNanos) {
        Issued i = issued.remove(nonce);
        if (i == null || !i.connectionId().equals(connectionId)) {
            return Verdict.UNKNOWN_NONCE;
        }
        return nowNanos - i.deadlineNanos() > 0 ? Verdict.EXPIRED_NONCE : Verdict.OK;
    }

    /** Forgets nonces issued to a closed connection. */
    public void forget(String connectionId) {
        issued.values().removeIf(i -> i.connectionId().equals(connectionId));
    }

    /** Drops expired nonces so that connections that never answer cannot grow the map. */
    public void sweep(long nowNanos) {
        for (Iterator<Issued> it = issued.values().iterator(); it.hasNext(); ) {
            if (nowNanos - it.next().deadlineNanos() > 0) {
                it.remove();
            }
        }
    }

    public int size() {
        return issued.size();
    }
}
