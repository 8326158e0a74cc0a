package io.peerlink.server.auth;

import io.peerlink.DeviceId;
import io.peerlink.spi.Authenticator;
import io.peerlink.tck.AuthenticatorVerification;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The allow-list authenticator passes the authenticator conformance suite (admission on the proven identity alone). */
class AllowListAuthenticatorVerificationTest extends AuthenticatorVerification {

    @Override
    protected Authenticator createAuthenticator(List<Enrolment> enrolled) {
        Map<DeviceId, String> allowed = new HashMap<>();
        enrolled.forEach(e -> allowed.put(e.deviceId(), e.network()));
        return new AllowListAuthenticator(allowed);
    }
}
