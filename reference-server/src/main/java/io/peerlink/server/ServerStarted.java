package io.peerlink.server;

import java.net.URI;

/**
 * CDI event fired once every service and Jetty listen (observe it with
 * {@code void onStart(@Observes ServerStarted e)}).
 *
 * @param controlUri the rendezvous control URI devices dial
 */
public record ServerStarted(URI controlUri) {
}
