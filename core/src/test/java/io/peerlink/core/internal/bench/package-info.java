/**
 * JMH microbenchmarks of core's internal hot paths: the channel packet/frame codec, ACK processing
 * in {@code SentPacketTracker}, the retransmission timer and the event loop's schedule/cancel, the
 * set-up PROBE decoder, and AEAD seal/open and the Noise handshake. They live in core (its test
 * sources, shipped in core's test jar) because nothing outside core may use core's internal
 * classes; the benchmarks module shades them into {@code benchmarks/target/benchmarks.jar} with its
 * own. Each benchmark that has a meaningful lower bound runs a baseline of the same shape in the
 * same class, so that results are read as ratios. {@code AeadVariantsBenchmark} compares ways of
 * calling the JDK's AEAD, and {@code AeadCpuTime} (a plain main, not JMH) times the AEAD benchmarks
 * by thread CPU time for machines shared with other work. Results and commands:
 * {@code docs/benchmarks.md}.
 */
package io.peerlink.core.internal.bench;
