package io.peerlink.core.internal.bench;

import io.peerlink.core.internal.crypto.NoiseSuite;

import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The variants of {@link AeadVariantsBenchmark} and {@link AeadBenchmark#sealOpen} timed by this
 * thread's CPU time instead of wall time, so that a machine shared with other builds (where JMH's
 * wall-clock scores spread by ±100 %) still gives comparable figures: a descheduled thread
 * accrues no CPU time. Rounds of each variant are interleaved; the minimum and median over rounds
 * are printed, with the bytes allocated per operation ({@code ThreadMXBean.getThreadAllocatedBytes}).
 * docs/benchmarks.md, "AEAD and handshake (JMH)", gives the command and the figures.
 *
 * <pre>java -cp benchmarks/target/benchmarks.jar io.peerlink.core.internal.bench.AeadCpuTime [rounds] [opsPerRound]</pre>
 */
public final class AeadCpuTime {
    private AeadCpuTime() {
    }

    @FunctionalInterface
    private interface Op {
        int run() throws Exception;
    }

    private static Op sizedSealOpen(int payload) throws Exception {
        Cipher seal = Cipher.getInstance("AES/GCM/NoPadding");
        Cipher open = Cipher.getInstance("AES/GCM/NoPadding");
        byte[] keyBytes = new byte[32];
        for (int i = 0; i < keyBytes.length; i++) {
            keyBytes[i] = (byte) (i * 7 + 3);
        }
        SecretKeySpec key = new SecretKeySpec(keyBytes, "AES");
        byte[] packet = new byte[13 + payload + 16];
        byte[] nonce = new byte[12];
        long[] counter = {0};
        return () -> {
            long n = ++counter[0];
            for (int i = 0; i < 8; i++) {
                nonce[4 + i] = (byte) (n >>> (56 - 8 * i));
            }
            GCMParameterSpec spec = new GCMParameterSpec(128, nonce);
            seal.init(Cipher.ENCRYPT_MODE, key, spec);
            seal.updateAAD(packet, 0, 13);
            seal.doFinal(packet, 13, payload, packet, 13);
            open.init(Cipher.DECRYPT_MODE, key, spec);
            open.updateAAD(packet, 0, 13);
            return open.doFinal(packet, 13, payload + 16, packet, 13);
        };
    }

    /**
     * @param args optional: rounds (default 15), operations per round (default 20,000)
     * @throws Exception never on a JDK with AES-GCM and ChaCha20-Poly1305
     */
    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 15;
        int ops = args.length > 1 ? Integer.parseInt(args[1]) : 20_000;
        // Reflection: core's module does not read java.management (the harness runs on the class path).
        Object threads = Class.forName("java.lang.management.ManagementFactory").getMethod("getThreadMXBean").invoke(null);
        Class<?> bean = Class.forName("com.sun.management.ThreadMXBean");
        Method allocated = bean.getMethod("getThreadAllocatedBytes", long.class);
        Method cpuTime = bean.getMethod("getCurrentThreadCpuTime");
        long self = Thread.currentThread().getId();

        AeadVariantsBenchmark v256 = new AeadVariantsBenchmark();
        v256.keyBits = 256;
        v256.setUp();
        AeadVariantsBenchmark v128 = new AeadVariantsBenchmark();
        v128.keyBits = 128;
        v128.setUp();
        AeadBenchmark protector = new AeadBenchmark();
        protector.suite = NoiseSuite.AESGCM;
        protector.setUp();

        Map<String, Op> variants = new LinkedHashMap<>();
        variants.put("protector.sealOpen (AES-256-GCM)", protector::sealOpen);
        variants.put("arrayInPlace 256", v256::arrayInPlace);
        variants.put("arrayOutOfPlace 256", v256::arrayOutOfPlace);
        variants.put("heapBuffer 256", v256::heapBuffer);
        variants.put("directBuffer 256", v256::directBuffer);
        variants.put("splitUpdate 256", v256::splitUpdate);
        variants.put("sealOnly 256", v256::sealOnly);
        variants.put("openOnly 256", v256::openOnly);
        variants.put("arrayInPlace 128", v128::arrayInPlace);
        variants.put("sealOnly 128", v128::sealOnly);
        variants.put("openOnly 128", v128::openOnly);
        variants.put("crc32c x2 (unsealed codec)", () -> (int) protector.crc32cBaseline());
        // Fixed versus per-byte cost: the same seal + open (13-byte AAD, in place) for other payload sizes.
        for (int size : new int[] {0, 64, 256, 512, 2048, 4096}) {
            variants.put("arrayInPlace 256, payload " + size, sizedSealOpen(size));
        }
        if (Boolean.parseBoolean(System.getProperty("aead.chacha", "true"))) {
            variants.put("chachaArrayInPlace", v256::chachaArrayInPlace);
        }

        int sink = 0;
        for (Op op : variants.values()) { // JIT warm-up: C2 with the AES/GHASH intrinsics
            for (int i = 0; i < 100_000; i++) {
                sink += op.run();
            }
        }
        Map<String, List<double[]>> results = new LinkedHashMap<>();
        for (int r = 0; r < rounds; r++) {
            for (Map.Entry<String, Op> e : variants.entrySet()) {
                Op op = e.getValue();
                long a0 = (long) allocated.invoke(threads, self);
                long c0 = (long) cpuTime.invoke(threads);
                for (int i = 0; i < ops; i++) {
                    sink += op.run();
                }
                long c1 = (long) cpuTime.invoke(threads);
                long a1 = (long) allocated.invoke(threads, self);
                results.computeIfAbsent(e.getKey(), k -> new ArrayList<>())
                        .add(new double[] {(c1 - c0) / (double) ops, (a1 - a0) / (double) ops});
            }
        }
        System.out.printf("# %s %s, %d rounds of %d operations, thread CPU time%n",
                System.getProperty("java.vm.name"), System.getProperty("java.version"), rounds, ops);
        System.out.printf("%-36s %12s %12s %10s%n", "variant", "min ns/op", "median ns/op", "B/op");
        for (Map.Entry<String, List<double[]>> e : results.entrySet()) {
            double[] cpu = e.getValue().stream().mapToDouble(x -> x[0]).sorted().toArray();
            double alloc = e.getValue().stream().mapToDouble(x -> x[1]).min().orElse(0);
            System.out.printf("%-36s %12.0f %12.0f %10.0f%n", e.getKey(), cpu[0], cpu[cpu.length / 2], alloc);
        }
        System.out.println("# sink " + (sink & 1));
    }
}
