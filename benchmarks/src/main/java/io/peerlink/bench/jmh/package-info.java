/**
 * JMH microbenchmarks on exported modules: the STUN server path. The benchmarks of core's internal
 * hot paths live in core (the {@code bench} package of core's test jar) and are shaded
 * into the same {@code benchmarks/target/benchmarks.jar}. Run with
 * {@code java -jar benchmarks/target/benchmarks.jar}; results and exact commands are in
 * {@code docs/benchmarks.md}.
 */
package io.peerlink.bench.jmh;
