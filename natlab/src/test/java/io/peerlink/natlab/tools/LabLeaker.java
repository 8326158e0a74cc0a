package io.peerlink.natlab.tools;

import io.peerlink.natlab.NatKind;
import io.peerlink.natlab.NatLab;

/**
 * Builds a lab, prints its namespace names and exits without closing it: only the JVM shutdown
 * hook stands between this and leaked namespaces.
 */
public final class LabLeaker {
    private LabLeaker() {
    }

    public static void main(String[] args) {
        NatLab lab = NatLab.builder().name("LabLeaker").site("a", NatKind.PORT_RESTRICTED).device("dev1", "a").build();
        lab.namespaces().values().forEach(ns -> System.out.println("NS " + ns));
        System.out.flush();
        System.exit(0);
    }
}
