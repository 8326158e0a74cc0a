/**
 * Test kit shared by every module's tests: an in-process datagram network
 * ({@link io.peerlink.testkit.InMemoryNetwork}, a test fake for fast unit and property tests,
 * never the proof of a feature over real sockets) and an impaired-path decorator
 * ({@link io.peerlink.testkit.ImpairedTransport}) that injects loss, duplication, reordering,
 * delay, corruption and a smaller MTU into any {@link io.peerlink.spi.Transport}, reproducibly
 * from a seed.
 */
package io.peerlink.testkit;
