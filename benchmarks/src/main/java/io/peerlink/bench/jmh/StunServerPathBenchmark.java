package io.peerlink.bench.jmh;

import io.peerlink.protocol.stun.StunEncoder;
import io.peerlink.protocol.stun.StunFormatException;
import io.peerlink.protocol.stun.StunMessage;
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
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * The STUN server's per-datagram work (as in the reference server's {@code StunServer}): decode
 * a Binding request (header + FINGERPRINT, as PeerLink's client sends it), check it, copy its
 * transaction ID, and encode the Binding success response with an IPv4 XOR-MAPPED-ADDRESS, a
 * SOFTWARE attribute and a FINGERPRINT into a reused buffer. Socket I/O is not included (the
 * JDK's receive allocates the source address; here it is made once).
 *
 * <p>Baseline: an "echo" that copies the request into the response buffer, the least any
 * server answering from a reused buffer does.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class StunServerPathBenchmark {
    private static final byte[] SOFTWARE = "PeerLink reference server".getBytes(StandardCharsets.UTF_8);

    private final StunMessage request = new StunMessage();
    private final StunEncoder encoder = new StunEncoder();
    private final byte[] txid = new byte[12];
    private final ByteBuffer in = ByteBuffer.allocate(1500);
    private final ByteBuffer out = ByteBuffer.allocate(1500);
    private InetSocketAddress source;

    /**
     * Encodes the request once.
     *
     * @throws UnknownHostException never: a literal address
     */
    @Setup
    public void setUp() throws UnknownHostException {
        byte[] id = new byte[12];
        for (int i = 0; i < id.length; i++) {
            id[i] = (byte) (17 * i + 3);
        }
        new StunEncoder().writeBindingRequest(in, id);
        in.flip();
        source = new InetSocketAddress(InetAddress.getByAddress(new byte[] {(byte) 203, 0, 113, 7}), 40123);
    }

    /**
     * Decode the request and encode the response.
     *
     * @return response length
     * @throws StunFormatException never: the request is well formed
     */
    @Benchmark
    public int decodeRequestEncodeResponse() throws StunFormatException {
        request.decode(in);
        if (!request.isBindingRequest() || request.unknownRequiredCount() > 0) {
            throw new IllegalStateException("not a plain Binding request");
        }
        request.copyTransactionId(txid);
        out.clear();
        encoder.writeBindingSuccess(out, txid, source.getAddress(), source.getPort(), SOFTWARE);
        out.flip();
        return out.remaining();
    }

    /**
     * Split: decode only.
     *
     * @return the message type
     * @throws StunFormatException never
     */
    @Benchmark
    public int decodeRequestOnly() throws StunFormatException {
        request.decode(in);
        return request.type();
    }

    /**
     * Split: encode the response only.
     *
     * @return response length
     */
    @Benchmark
    public int encodeResponseOnly() {
        out.clear();
        encoder.writeBindingSuccess(out, txid, source.getAddress(), source.getPort(), SOFTWARE);
        return out.position();
    }

    /**
     * Baseline: copy the request into the response buffer.
     *
     * @return bytes copied
     */
    @Benchmark
    public int baselineEcho() {
        out.clear();
        out.put(0, in, in.position(), in.remaining());
        out.limit(in.remaining());
        return out.remaining();
    }
}
