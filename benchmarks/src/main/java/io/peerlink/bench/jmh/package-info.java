/**
 * JMH microbenchmarks of PeerLink's hot paths: the channel packet/frame codec, ACK processing in
 * {@code SentPacketTracker}, the retransmission timer and the event loop's schedule/cancel, the
 * STUN server path and the setup PROBE decoder. Each benchmark that has a meaningful lower bound
 * runs a baseline of the same shape in the same class, so that results are read as ratios (this
 * machine is small and shared). They call core's internal classes on the class path: core's
 * module exports none of them. Run with {@code java -jar benchmarks/target/benchmarks.jar}; the
 * results and the exact command are in {@code docs/benchmarks.md}.
 */
package io.peerlink.bench.jmh;
