package io.peerlink.core.internal.bench;

import io.peerlink.core.internal.link.SetupFormatException;
import io.peerlink.core.internal.link.SetupPacket;
import io.peerlink.core.internal.punch.ProbeKeys;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;

/**
 * Decoding the connectivity-check packets of link setup: a PROBE and a PROBE_ACK (IPv4 observed
 * address). {@link SetupPacket#readProbe} returns a record with the MAC-covered bytes and the MAC (and, for
 * PROBE_ACK, an {@link InetSocketAddress}), so it allocates by design; {@code -prof gc} shows how
 * much (verifying the MAC is a separate step, not measured here). Baseline: reading the same PROBE fields with absolute gets into primitives, the least a
 * decoder of that layout can do.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class SetupProbeBenchmark {
    private final ByteBuffer probe = ByteBuffer.allocate(128);
    private final ByteBuffer probeAck = ByteBuffer.allocate(128);

    /**
     * Encodes one PROBE and one PROBE_ACK.
     *
     * @throws UnknownHostException never: a literal address
     */
    @Setup
    public void setUp() throws UnknownHostException {
        javax.crypto.Mac key = ProbeKeys.derive("benchmark-session-secret", true).outbound();
        SetupPacket.writeProbe(probe, 0x0102030405060708L, 99, SetupPacket.FLAG_NOMINATE, 0x1112131415161718L, key);
        probe.flip();
        InetSocketAddress observed = new InetSocketAddress(InetAddress.getByAddress(new byte[] {(byte) 198, 51, 100, 9}), 50000);
        SetupPacket.writeProbeAck(probeAck, 0x1112131415161718L, 99, SetupPacket.FLAG_NOMINATE, observed, key);
        probeAck.flip();
    }

    /**
     * Decode a PROBE.
     *
     * @return the decoded probe
     * @throws SetupFormatException never: the probe is well formed
     */
    @Benchmark
    public SetupPacket.Probe readProbe() throws SetupFormatException {
        return SetupPacket.readProbe(probe);
    }

    /**
     * Decode a PROBE_ACK with an IPv4 observed address.
     *
     * @return the decoded probe acknowledgement
     * @throws SetupFormatException never
     */
    @Benchmark
    public SetupPacket.Probe readProbeAck() throws SetupFormatException {
        return SetupPacket.readProbe(probeAck);
    }

    /**
     * Baseline: the PROBE's fields read with absolute gets, no objects.
     *
     * @return a value depending on every field
     */
    @Benchmark
    public long baselineAbsoluteGets() {
        ByteBuffer b = probe;
        int start = b.position();
        long v = b.get(start) & 0xff;
        v ^= b.getLong(start + 1);
        v ^= b.getLong(start + 9);
        v ^= b.get(start + 17) & 0xff;
        v ^= b.getLong(start + 18);
        v ^= b.getLong(start + 26);
        v ^= b.getLong(start + 34);
        return v;
    }
}
