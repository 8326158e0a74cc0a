package io.peerlink.core.internal.device;

import io.peerlink.spi.Transport;
import io.peerlink.spi.TransportConfig;
import io.peerlink.spi.TransportProvider;
import io.peerlink.testkit.InMemoryNetwork;

/**
 * Two providers of the scheme {@code mem}, both registered in the test class path's
 * {@code META-INF/services}: an ambiguous scheme for the precedence tests. Both create
 * transports on one in-memory network shared by the tests of this JVM.
 */
final class MemTransportProviders {
    static final InMemoryNetwork NETWORK = new InMemoryNetwork();

    private MemTransportProviders() {
    }

    /** The first provider of {@code mem}. */
    public static final class First implements TransportProvider {
        /** For ServiceLoader. */
        public First() {
        }

        @Override
        public String scheme() {
            return InMemoryNetwork.SCHEME;
        }

        @Override
        public Transport create(TransportConfig config) {
            return NETWORK.newTransport(1400);
        }
    }

    /** The second provider of {@code mem}. */
    public static final class Second implements TransportProvider {
        /** For ServiceLoader. */
        public Second() {
        }

        @Override
        public String scheme() {
            return InMemoryNetwork.SCHEME;
        }

        @Override
        public Transport create(TransportConfig config) {
            return NETWORK.newTransport(1400);
        }
    }
}
