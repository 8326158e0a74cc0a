package io.peerlink.server.auth;

import io.peerlink.DeviceId;
import io.peerlink.spi.AccessPolicy;
import io.peerlink.tck.AccessPolicyVerification;

import java.util.List;

/** The default same-network policy passes the access-policy conformance suite, isolation and symmetry included. */
class SameNetworkAccessPolicyVerificationTest extends AccessPolicyVerification {

    @Override
    protected AccessPolicy createPolicy() {
        return new SameNetworkAccessPolicy();
    }

    @Override
    protected List<Decision> expectedDecisions() {
        DeviceId a = newDeviceId();
        DeviceId b = newDeviceId();
        return List.of(new Decision(a, "plant-1", b, "plant-1", true), new Decision(b, "plant-1", a, "plant-1", true),
                new Decision(a, "plant-1", b, "plant-2", false), new Decision(a, "default", b, "plant-1", false));
    }

    @Override
    protected boolean isolatesNetworks() {
        return true;
    }

    @Override
    protected boolean symmetric() {
        return true;
    }
}
