package io.peerlink.server;

/**
 * CDI event fired when the server begins to close, before Jetty and the services stop (observe it
 * with {@code void onStop(@Observes ServerStopping e)}); then the container shuts down and
 * disposers and {@code @PreDestroy} methods run.
 */
public record ServerStopping() {
}
