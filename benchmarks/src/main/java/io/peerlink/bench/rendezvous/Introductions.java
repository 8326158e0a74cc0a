package io.peerlink.bench.rendezvous;

import io.peerlink.protocol.rendezvous.Message;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * One introduction phase: a closed loop that keeps {@code concurrency} introductions in flight
 * between random pairs of the first {@code devices} devices. An introduction is
 * {@code connect -> incoming -> accept -> introduce} (to both sides); it counts as completed when
 * both {@code introduce} messages have arrived and agree with each other (same session token,
 * each names the other as peer, mirrored connection IDs, one INITIATOR and one RESPONDER). Its
 * latency runs from sending {@code connect} to the later of the two {@code introduce}s.
 *
 * <p>Only introductions completing inside the measurement window (after a warm-up) count, and
 * the server's CPU time is sampled at the window's edges.
 */
final class Introductions {
    /** A requester's {@code introduce}, waiting for the target's (or the reverse), joined by session token. */
    private record Half(LoadDevice device, Message.Introduce message) {
    }

    private final class Flight {
        final LoadDevice requester;
        final LoadDevice target;
        final long requestId;
        final long startNanos;

        Flight(LoadDevice requester, LoadDevice target, long requestId, long startNanos) {
            this.requester = requester;
            this.target = target;
            this.requestId = requestId;
            this.startNanos = startNanos;
        }
    }

    private final List<LoadDevice> devices;
    private final int population;
    private final Semaphore permits;
    private final int concurrency;
    private final ConcurrentHashMap<Long, Flight> byRequest = new ConcurrentHashMap<>();
    /** Per session token: the half that arrived first, as a Half, or the Flight for a requester half. */
    private final ConcurrentHashMap<String, Object> joins = new ConcurrentHashMap<>();
    private final long[] latencies;
    private final AtomicInteger latencyCount = new AtomicInteger();
    private final LongAdder completedTotal = new LongAdder();
    private final LongAdder errors = new LongAdder();
    private final LongAdder mismatches = new LongAdder();
    private volatile long windowStart = Long.MAX_VALUE;
    private volatile long windowEnd = Long.MAX_VALUE;

    /** Where the servers' CPU time is read. */
    interface CpuClock {
        /** @return user plus system CPU time of the server(s), nanoseconds @throws IOException if it cannot be read */
        long cpuNanos() throws IOException;
    }

    /** Something to do when the measurement window opens. */
    interface WindowHook {
        /** @throws IOException if it fails */
        void run() throws IOException;
    }

    /** Results of one phase. */
    record Result(int devices, int concurrency, long completed, double seconds, double perSecond, long p50Nanos,
                  long p95Nanos, long p99Nanos, long maxNanos, long errors, long mismatches, long lost,
                  long serverCpuNanos, long loadCpuNanos) {
        double serverCpuMicrosPerIntro() {
            return completed == 0 ? Double.NaN : serverCpuNanos / 1e3 / completed;
        }

        double serverCores() {
            return serverCpuNanos / 1e9 / seconds;
        }

        double loadCores() {
            return loadCpuNanos / 1e9 / seconds;
        }
    }

    /**
     * @param devices all devices (registered)
     * @param population use devices {@code 0..population-1}
     * @param concurrency introductions in flight
     */
    Introductions(List<LoadDevice> devices, int population, int concurrency) {
        this(devices, population, concurrency, 1);
    }

    /** Number of nodes the devices are spread over (device i on node i % nodes); with 2, every introduction crosses nodes. */
    private final int nodes;

    /**
     * @param devices all devices (registered)
     * @param population use devices {@code 0..population-1}
     * @param concurrency introductions in flight
     * @param nodes 1, or 2 for requester and target always on different nodes (device i is on node {@code i % 2})
     */
    Introductions(List<LoadDevice> devices, int population, int concurrency, int nodes) {
        if (nodes != 1 && nodes != 2) {
            throw new IllegalArgumentException("nodes must be 1 or 2");
        }
        if (nodes == 2 && population % 2 != 0) {
            throw new IllegalArgumentException("two nodes need an even population");
        }
        this.nodes = nodes;
        if (population < 2) {
            throw new IllegalArgumentException("an introduction needs two devices");
        }
        this.devices = devices;
        this.population = population;
        this.concurrency = concurrency;
        this.permits = new Semaphore(concurrency);
        this.latencies = new long[4_000_000];
    }

    /**
     * Runs warm-up and measurement, then waits up to 10 s for introductions still in flight.
     *
     * @param server the server, for CPU samples
     * @param warmupNanos warm-up (not counted)
     * @param measureNanos measurement window
     * @param atWindowStart run when the measurement window opens (e.g. start a profiler), or null
     * @return the results
     * @throws IOException if the server's CPU cannot be read
     * @throws InterruptedException if interrupted
     */
    Result run(CpuClock server, long warmupNanos, long measureNanos, WindowHook atWindowStart)
            throws IOException, InterruptedException {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        long start = System.nanoTime();
        long measureFrom = start + warmupNanos;
        long measureTo = measureFrom + measureNanos;
        long cpuStart = -1;
        long loadCpuStart = -1;
        long cpuEnd = -1;
        long loadCpuEnd = -1;
        long completedAtStart = 0;
        long completedAtEnd = 0;
        while (true) {
            long now = System.nanoTime();
            if (cpuStart < 0 && now >= measureFrom) {
                windowStart = now;
                completedAtStart = completedTotal.sum();
                if (atWindowStart != null) {
                    atWindowStart.run();
                }
                cpuStart = server.cpuNanos();
                loadCpuStart = loadCpuNanos();
            }
            if (now >= measureTo) {
                windowEnd = now;
                completedAtEnd = completedTotal.sum();
                cpuEnd = server.cpuNanos();
                loadCpuEnd = loadCpuNanos();
                break;
            }
            if (!permits.tryAcquire(10, TimeUnit.MILLISECONDS)) {
                continue;
            }
            LoadDevice requester = devices.get(random.nextInt(population));
            LoadDevice target;
            if (nodes == 2) {
                // A device of the other parity: on the other node.
                int other = 1 - requester.index % 2;
                target = devices.get(2 * random.nextInt(population / 2) + other);
            } else {
                int t = random.nextInt(population - 1);
                target = devices.get(t >= requester.index ? t + 1 : t);
            }
            long requestId = requester.nextRequestId();
            Flight f = new Flight(requester, target, requestId, System.nanoTime());
            byRequest.put(key(requester, requestId), f);
            requester.send(new Message.Connect(requestId, target.id));
        }
        // Let what is in flight land so the server is quiet before the next measurement.
        permits.tryAcquire(concurrency, 10, TimeUnit.SECONDS);
        long lost = byRequest.size() + joins.size();
        double seconds = (windowEnd - windowStart) / 1e9;
        long completed = completedAtEnd - completedAtStart;
        int n = Math.min(latencyCount.get(), latencies.length);
        long[] sorted = Arrays.copyOf(latencies, n);
        Arrays.sort(sorted);
        return new Result(population, concurrency, completed, seconds, completed / seconds,
                percentile(sorted, 0.50), percentile(sorted, 0.95), percentile(sorted, 0.99),
                n == 0 ? 0 : sorted[n - 1], errors.sum(), mismatches.sum(), lost, cpuEnd - cpuStart, loadCpuEnd - loadCpuStart);
    }

    private static long loadCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    private static long percentile(long[] sorted, double q) {
        if (sorted.length == 0) {
            return 0;
        }
        return sorted[(int) Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
    }

    private static long key(LoadDevice device, long requestId) {
        return ((long) device.index << 32) | (requestId & 0xffff_ffffL);
    }

    void onRequesterIntroduce(LoadDevice device, Message.Introduce m) {
        Flight f = byRequest.remove(key(device, m.requestId()));
        if (f == null) {
            mismatches.increment();
            return;
        }
        if (!m.peer().equals(f.target.id)) {
            finish(f, false);
            return;
        }
        join(m.sessionToken(), f, new Half(device, m));
    }

    void onTargetIntroduce(LoadDevice device, Message.Introduce m) {
        join(m.sessionToken(), null, new Half(device, m));
    }

    /**
     * Pairs the two halves of an introduction; whichever arrives second completes it.
     *
     * @param flight the flight, for the requester's half; null for the target's
     */
    private void join(String token, Flight flight, Half half) {
        Object mine = flight != null ? new Object[] {flight, half} : half;
        Object other = joins.putIfAbsent(token, mine);
        if (other == null) {
            return;
        }
        joins.remove(token);
        Object[] requesterSide = (Object[]) (flight != null ? mine : other);
        Half targetHalf = (Half) (flight != null ? other : mine);
        Flight f = (Flight) requesterSide[0];
        Half requesterHalf = (Half) requesterSide[1];
        finish(f, consistent(f, requesterHalf.message(), targetHalf));
    }

    private static boolean consistent(Flight f, Message.Introduce initiator, Half responderHalf) {
        Message.Introduce responder = responderHalf.message();
        return responderHalf.device() == f.target
                && responder.peer().equals(f.requester.id)
                && initiator.peer().equals(f.target.id)
                && initiator.localConnectionId() == responder.remoteConnectionId()
                && initiator.remoteConnectionId() == responder.localConnectionId()
                && initiator.sessionToken().equals(responder.sessionToken());
    }

    /**
     * A failure answer for a device's request.
     *
     * @param device the device that got it
     * @param requestId the request it names
     * @return true if it belonged to an introduction of this phase
     */
    boolean onFailure(LoadDevice device, long requestId) {
        Flight f = byRequest.remove(key(device, requestId));
        if (f == null) {
            return false;
        }
        errors.increment();
        permits.release();
        return true;
    }

    private void finish(Flight f, boolean ok) {
        long now = System.nanoTime();
        if (!ok) {
            mismatches.increment();
        } else {
            completedTotal.increment();
            if (now >= windowStart && now < windowEnd) {
                int i = latencyCount.getAndIncrement();
                if (i < latencies.length) {
                    latencies[i] = now - f.startNanos;
                }
            }
        }
        permits.release();
    }
}
