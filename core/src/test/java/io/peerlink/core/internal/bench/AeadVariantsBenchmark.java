package io.peerlink.core.internal.bench;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.util.concurrent.TimeUnit;

/**
 * Ways of driving the JDK's own AEAD ciphers for one 1,200-byte datagram (13-byte header as
 * associated data, 1,171-byte payload, 16-byte tag), seal then open, fresh nonce per packet, to find
 * the cheapest correct one on the running JDK (docs/benchmarks.md, "AEAD and handshake"). No
 * PeerLink code is involved: these are the floors {@code AeadBenchmark.sealOpen} is compared with.
 * <ul>
 *   <li>{@code arrayInPlace}: init, {@code updateAAD(byte[])}, {@code doFinal(byte[])} in place
 *       (what {@code PacketProtector} does for heap buffers); {@code arrayOutOfPlace}: the same into a
 *       second array;</li>
 *   <li>{@code heapBuffer} / {@code directBuffer}: the {@code ByteBuffer} overloads on a heap or a
 *       direct buffer, in place;</li>
 *   <li>{@code splitUpdate}: the sealing side passes the block-aligned bulk of the payload to
 *       {@code update} and the rest to {@code doFinal} (the opening side cannot: decryption
 *       buffers everything until the tag is checked);</li>
 *   <li>{@code sealOnly} / {@code openOnly}: one direction each (open of a packet sealed once in
 *       set-up; the same nonce is fine for decryption);</li>
 *   <li>{@code keyBits}: 256 (the Noise AESGCM suite's key) or 128 (AES-128-GCM, for comparison
 *       only: the wire protocol derives 32-byte keys).</li>
 * </ul>
 * {@code chachaArrayInPlace} runs ChaCha20-Poly1305 the same way as {@code arrayInPlace}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class AeadVariantsBenchmark {
    private static final int DATAGRAM = 1200;
    private static final int HEADER = 13;
    private static final int TAG = 16;
    private static final int PAYLOAD = DATAGRAM - HEADER - TAG;

    @Param({"256", "128"})
    public int keyBits;

    private Cipher seal;
    private Cipher open;
    private Cipher chachaSeal;
    private Cipher chachaOpen;
    private SecretKeySpec key;
    private SecretKeySpec chachaKey;
    private final byte[] nonce = new byte[12];
    private long counter;
    private final byte[] packet = new byte[DATAGRAM];
    private final byte[] other = new byte[DATAGRAM];
    private final ByteBuffer heap = ByteBuffer.allocate(DATAGRAM);
    private final ByteBuffer direct = ByteBuffer.allocateDirect(DATAGRAM);
    private final byte[] sealedOnce = new byte[DATAGRAM];
    private final byte[] openScratch = new byte[DATAGRAM];
    private GCMParameterSpec sealedOnceSpec;

    /** Ciphers and keys; one packet sealed for {@code openOnly}. */
    @Setup
    public void setUp() throws GeneralSecurityException {
        byte[] keyBytes = new byte[keyBits / 8];
        for (int i = 0; i < keyBytes.length; i++) {
            keyBytes[i] = (byte) (i * 7 + 3);
        }
        key = new SecretKeySpec(keyBytes, "AES");
        byte[] chachaBytes = new byte[32];
        System.arraycopy(keyBytes, 0, chachaBytes, 0, Math.min(32, keyBytes.length));
        chachaKey = new SecretKeySpec(chachaBytes, "ChaCha20");
        seal = Cipher.getInstance("AES/GCM/NoPadding");
        open = Cipher.getInstance("AES/GCM/NoPadding");
        chachaSeal = Cipher.getInstance("ChaCha20-Poly1305");
        chachaOpen = Cipher.getInstance("ChaCha20-Poly1305");
        for (int i = 0; i < DATAGRAM; i++) {
            packet[i] = (byte) i;
        }
        sealedOnceSpec = nextSpec();
        System.arraycopy(packet, 0, sealedOnce, 0, DATAGRAM);
        seal.init(Cipher.ENCRYPT_MODE, key, sealedOnceSpec);
        seal.updateAAD(sealedOnce, 0, HEADER);
        seal.doFinal(sealedOnce, HEADER, PAYLOAD, sealedOnce, HEADER);
    }

    private GCMParameterSpec nextSpec() {
        long n = ++counter;
        for (int i = 0; i < 8; i++) {
            nonce[4 + i] = (byte) (n >>> (56 - 8 * i));
        }
        return new GCMParameterSpec(TAG * 8, nonce);
    }

    /** @return plaintext length recovered */
    @Benchmark
    public int arrayInPlace() throws GeneralSecurityException {
        GCMParameterSpec spec = nextSpec();
        byte[] p = packet;
        seal.init(Cipher.ENCRYPT_MODE, key, spec);
        seal.updateAAD(p, 0, HEADER);
        seal.doFinal(p, HEADER, PAYLOAD, p, HEADER);
        open.init(Cipher.DECRYPT_MODE, key, spec);
        open.updateAAD(p, 0, HEADER);
        return open.doFinal(p, HEADER, PAYLOAD + TAG, p, HEADER);
    }

    /** @return plaintext length recovered */
    @Benchmark
    public int arrayOutOfPlace() throws GeneralSecurityException {
        GCMParameterSpec spec = nextSpec();
        seal.init(Cipher.ENCRYPT_MODE, key, spec);
        seal.updateAAD(packet, 0, HEADER);
        seal.doFinal(packet, HEADER, PAYLOAD, other, HEADER);
        System.arraycopy(packet, 0, other, 0, HEADER);
        open.init(Cipher.DECRYPT_MODE, key, spec);
        open.updateAAD(other, 0, HEADER);
        return open.doFinal(other, HEADER, PAYLOAD + TAG, packet, HEADER);
    }

    /** @return plaintext length recovered */
    @Benchmark
    public int heapBuffer() throws GeneralSecurityException {
        return buffers(heap);
    }

    /** @return plaintext length recovered */
    @Benchmark
    public int directBuffer() throws GeneralSecurityException {
        return buffers(direct);
    }

    private int buffers(ByteBuffer b) throws GeneralSecurityException {
        GCMParameterSpec spec = nextSpec();
        seal.init(Cipher.ENCRYPT_MODE, key, spec);
        seal.updateAAD(b.clear().limit(HEADER));
        ByteBuffer in = b.duplicate().limit(HEADER + PAYLOAD).position(HEADER);
        ByteBuffer out = b.duplicate().limit(DATAGRAM).position(HEADER);
        seal.doFinal(in, out);
        open.init(Cipher.DECRYPT_MODE, key, spec);
        open.updateAAD(b.clear().limit(HEADER));
        in = b.duplicate().limit(DATAGRAM).position(HEADER);
        out = b.duplicate().limit(DATAGRAM).position(HEADER);
        return open.doFinal(in, out);
    }

    /** @return plaintext length recovered */
    @Benchmark
    public int splitUpdate() throws GeneralSecurityException {
        GCMParameterSpec spec = nextSpec();
        byte[] p = packet;
        int bulk = PAYLOAD & ~15;
        seal.init(Cipher.ENCRYPT_MODE, key, spec);
        seal.updateAAD(p, 0, HEADER);
        int n = seal.update(p, HEADER, bulk, p, HEADER);
        seal.doFinal(p, HEADER + bulk, PAYLOAD - bulk, p, HEADER + n);
        open.init(Cipher.DECRYPT_MODE, key, spec);
        open.updateAAD(p, 0, HEADER);
        return open.doFinal(p, HEADER, PAYLOAD + TAG, p, HEADER);
    }

    /** @return ciphertext + tag length */
    @Benchmark
    public int sealOnly() throws GeneralSecurityException {
        GCMParameterSpec spec = nextSpec();
        byte[] p = packet;
        seal.init(Cipher.ENCRYPT_MODE, key, spec);
        seal.updateAAD(p, 0, HEADER);
        return seal.doFinal(p, HEADER, PAYLOAD, p, HEADER);
    }

    /** @return plaintext length recovered */
    @Benchmark
    public int openOnly() throws GeneralSecurityException {
        open.init(Cipher.DECRYPT_MODE, key, sealedOnceSpec);
        open.updateAAD(sealedOnce, 0, HEADER);
        return open.doFinal(sealedOnce, HEADER, PAYLOAD + TAG, openScratch, HEADER);
    }

    /** @return plaintext length recovered */
    @Benchmark
    public int chachaArrayInPlace() throws GeneralSecurityException {
        nextSpec();
        IvParameterSpec spec = new IvParameterSpec(nonce);
        byte[] p = packet;
        chachaSeal.init(Cipher.ENCRYPT_MODE, chachaKey, spec);
        chachaSeal.updateAAD(p, 0, HEADER);
        chachaSeal.doFinal(p, HEADER, PAYLOAD, p, HEADER);
        chachaOpen.init(Cipher.DECRYPT_MODE, chachaKey, spec);
        chachaOpen.updateAAD(p, 0, HEADER);
        return chachaOpen.doFinal(p, HEADER, PAYLOAD + TAG, p, HEADER);
    }
}
