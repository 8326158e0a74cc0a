package io.peerlink.spi;

import io.peerlink.DeviceId;

import java.net.InetSocketAddress;
import java.util.Map;
import java.util.Objects;

/**
 * A device asking to be admitted to a rendezvous server. By the time an {@link Authenticator}
 * sees it, the server has verified that the device holds the private key of {@code publicKey}
 * and that {@code deviceId} is derived from it.
 *
 * @param deviceId the proven device ID
 * @param publicKey the raw 32-byte Ed25519 public key
 * @param remoteAddress where the control connection comes from
 * @param claims extra claims the device sent (e.g. {@code network}); untrusted
 */
public record AuthRequest(DeviceId deviceId, byte[] publicKey, InetSocketAddress remoteAddress, Map<String, String> claims) {
    /**
     * @param deviceId the proven device ID
     * @param publicKey the raw 32-byte Ed25519 public key (copied)
     * @param remoteAddress where the control connection comes from
     * @param claims extra claims the device sent (copied); untrusted
     * @throws NullPointerException if any component is null
     */
    public AuthRequest {
        Objects.requireNonNull(deviceId, "deviceId");
        publicKey = Objects.requireNonNull(publicKey, "publicKey").clone();
        Objects.requireNonNull(remoteAddress, "remoteAddress");
        claims = Map.copyOf(Objects.requireNonNull(claims, "claims"));
    }

    /** @return a copy of the public key */
    @Override
    public byte[] publicKey() {
        return publicKey.clone();
    }
}
