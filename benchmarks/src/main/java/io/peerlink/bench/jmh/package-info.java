/**
 * JMH microbenchmarks on exported modules: the STUN server path. The benchmarks of core's internal
 * hot paths live in core ({@code io.peerlink.core.internal.bench}, core's test jar) and are shaded
 * into the same {@code benchmarks/target/benchmarks.jar}. Run with
 * {@code java -jar benchmarks/target/benchmarks.jar}; results and exact commands are in
 * {@code docs/benchmarks.md}.
 */
package io.peerlink.bench.jmh;
