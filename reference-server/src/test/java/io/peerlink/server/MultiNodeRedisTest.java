package io.peerlink.server;

import io.peerlink.Device;
import io.peerlink.DeviceId;
import io.peerlink.PathKind;
import io.peerlink.PeerLink;
import io.peerlink.PeerLinks;
import io.peerlink.Rendezvous;
import io.peerlink.UnreachableException;
import io.peerlink.protocol.identity.DeviceIdentity;
import io.peerlink.testkit.RedisServer;
import io.peerlink.testkit.RedisServerExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Several reference-server nodes sharing presence and routing introductions through a real
 * {@code redis-server} (docs/operations.md, "Several nodes on Redis"): real devices, real UDP
 * hole punching on loopback, one node killed with SIGKILL.
 */
@ExtendWith(RedisServerExtension.class)
class MultiNodeRedisTest {
    private static final InetSocketAddress LOOPBACK = new InetSocketAddress("127.0.0.1", 0);
    private static final AtomicInteger PREFIXES = new AtomicInteger();
    /**
     * The keepalive of the tests in which a dead node's entries must expire: a node drops a device
     * silent for 3 intervals, and Redis entries live 3 intervals. 2 s (6 s of silence), not less: on
     * a loaded 2-core machine a node that had just started heard nothing from a live device for
     * 1.4 s, and with 300 ms (0.9 s) it dropped devices that had just registered (an assertion saw
     * RECONNECTING instead of REGISTERED). 6 s still lets a dead node's entries expire well within
     * the 20 s every wait here allows.
     */
    private static final Duration SHORT_KEEPALIVE = Duration.ofSeconds(2);
    @TempDir
    Path dir;
    private final List<AutoCloseable> toClose = new ArrayList<>();
    private final String prefix = "test" + PREFIXES.incrementAndGet() + ":";

    @AfterEach
    void closeAll() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    private DeviceId identity(String name) {
        return DeviceIdentity.loadOrCreate(dir.resolve(name + ".key")).id();
    }

    private Path allowList(String text) throws Exception {
        Path file = dir.resolve("allow-list");
        Files.writeString(file, text);
        return file;
    }

    private ReferenceServer node(RedisServer redis, Path allowList, Duration keepalive) {
        ReferenceServer server = ReferenceServer.start(ServerConfig.builder().bindHost("127.0.0.1").httpPort(0).stunPort(0)
                .coapPort(-1).allowListFile(allowList).keepalive(keepalive)
                .redis(new ServerConfig.Redis(URI.create(redis.uri()), prefix)).build());
        toClose.add(server);
        return server;
    }

    private Device device(String name, URI control, InetSocketAddress stun) throws Exception {
        var builder = PeerLinks.device().identity(dir.resolve(name + ".key")).rendezvous(control).udp(LOOPBACK)
                .connectTimeout(Duration.ofSeconds(5));
        if (stun != null) {
            builder.stunServer(stun);
        }
        Device d = builder.build();
        toClose.add(d);
        d.rendezvous().registered().toCompletableFuture().get(15, TimeUnit.SECONDS);
        assertEquals(Rendezvous.State.REGISTERED, d.rendezvous().state());
        return d;
    }

    private static UnreachableException.Reason reason(Device from, DeviceId to) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> from.connect(to).toCompletableFuture().get(20, TimeUnit.SECONDS));
        return assertInstanceOf(UnreachableException.class, e.getCause(), String.valueOf(e.getCause())).reason();
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting until " + what);
            }
            Thread.sleep(50);
        }
    }

    @Test
    void deviceOnNodeOneLinksToDeviceOnNodeTwoWithARealHolePunch(RedisServer redis) throws Exception {
        DeviceId a = identity("a");
        DeviceId b = identity("b");
        DeviceId c = identity("c");
        Path list = allowList(a + " home\n" + b + " home\n" + c + " office\n");
        ReferenceServer one = node(redis, list, Duration.ofSeconds(15));
        ReferenceServer two = node(redis, list, Duration.ofSeconds(15));
        Device alice = device("a", one.controlUri(), one.stunAddress());
        Device bob = device("b", two.controlUri(), two.stunAddress());
        device("c", two.controlUri(), two.stunAddress());
        assertEquals(1, one.connectedDevices());
        assertEquals(2, two.connectedDevices());

        byte[] data = new byte[100_000];
        new Random(7).nextBytes(data);
        CompletableFuture<byte[]> received = new CompletableFuture<>();
        CompletableFuture<DeviceId> from = new CompletableFuture<>();
        bob.onIncoming(request -> {
            from.complete(request.from());
            request.accept().thenAccept(link -> link.channel().onMessage((m, how) -> {
                byte[] got = new byte[m.remaining()];
                m.get(got);
                received.complete(got);
            }));
        });
        assertTrue(alice.rendezvous().isOnline(b).toCompletableFuture().get(5, TimeUnit.SECONDS), "presence crosses nodes");
        PeerLink link = alice.connect(b).toCompletableFuture().get(15, TimeUnit.SECONDS);
        assertEquals(b, link.peer());
        assertEquals(a, from.get(5, TimeUnit.SECONDS));
        assertEquals(PathKind.DIRECT_PRIVATE, link.path().kind(), "a direct path punched between the devices");
        link.channel().send(ByteBuffer.wrap(data)).toCompletableFuture().get(15, TimeUnit.SECONDS);
        assertArrayEquals(data, received.get(15, TimeUnit.SECONDS));
        assertEquals(1, two.introductions(), "the target's node makes the introduction");
        assertEquals(0, one.introductions());
        link.close();

        // The access policy applies across nodes: another network is UNKNOWN, as on one node.
        assertEquals(UnreachableException.Reason.UNKNOWN, reason(alice, c));
        bob.onIncoming(request -> request.reject("busy"));
        assertEquals(UnreachableException.Reason.REJECTED, reason(alice, b));
        // And the other way round: node two asks node one.
        alice.onIncoming(request -> request.reject("not now"));
        assertEquals(UnreachableException.Reason.REJECTED, reason(bob, a));
        bob.close();
        await("bob's entry is gone", () -> {
            try {
                return !alice.rendezvous().isOnline(b).toCompletableFuture().get(5, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
        assertEquals(UnreachableException.Reason.OFFLINE, reason(alice, b), "known (allow-list, admitted before) but offline");
    }

    @Test
    void aDyingNodeDropsOnlyItsOwnDevicesWhichReRegisterOnAnotherNode(RedisServer redis) throws Exception {
        DeviceId a = identity("a");
        DeviceId b = identity("b");
        DeviceId c = identity("c");
        DeviceId d = identity("d");
        Path list = allowList(a + " home\n" + b + " home\n" + c + " home\n" + d + " home\n");
        Duration keepalive = SHORT_KEEPALIVE;
        Process nodeOne = startNodeProcess(redis, list, keepalive);
        URI oneUri = nodeUri(nodeOne);
        ReferenceServer two = node(redis, list, keepalive);
        // "One name": a forwarder in front of node one, switched to node two when node one dies.
        TcpForwarder name = new TcpForwarder(oneUri.getPort());
        toClose.add(name);
        URI viaName = URI.create("ws://127.0.0.1:" + name.port() + oneUri.getPath());
        Device alice = device("a", viaName, two.stunAddress());
        Device carol = device("c", oneUri, two.stunAddress());   // dials node one directly: cannot move
        Device bob = device("b", two.controlUri(), two.stunAddress());
        assertTrue(bob.rendezvous().isOnline(a).toCompletableFuture().get(5, TimeUnit.SECONDS));
        assertTrue(bob.rendezvous().isOnline(c).toCompletableFuture().get(5, TimeUnit.SECONDS));
        // Dave, also on node two, has a link to bob: node one dying must not touch it.
        Device dave = device("d", two.controlUri(), two.stunAddress());
        CompletableFuture<PeerLink> bobSide = new CompletableFuture<>();
        bob.onIncoming(request -> request.accept().thenAccept(bobSide::complete));
        PeerLink daveToBob = dave.connect(b).toCompletableFuture().get(15, TimeUnit.SECONDS);
        PeerLink bobToDave = bobSide.get(15, TimeUnit.SECONDS);
        List<Rendezvous.State> bobStates = new java.util.concurrent.CopyOnWriteArrayList<>();
        bob.rendezvous().onStateChange(bobStates::add);
        List<Rendezvous.State> daveStates = new java.util.concurrent.CopyOnWriteArrayList<>();
        dave.rendezvous().onStateChange(daveStates::add);
        assertEquals(2, two.connectedDevices());

        name.backend(two.controlUri().getPort());
        nodeOne.destroyForcibly().waitFor(10, TimeUnit.SECONDS);

        await("alice re-registers on node two", () -> two.connectedDevices() == 3
                && alice.rendezvous().state() == Rendezvous.State.REGISTERED);
        await("carol's entry expires (her node stopped refreshing it)", () -> {
            try {
                return !bob.rendezvous().isOnline(c).toCompletableFuture().get(5, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
        assertFalse(carol.rendezvous().state() == Rendezvous.State.REGISTERED, "carol's only node is dead");
        assertEquals(UnreachableException.Reason.OFFLINE, reason(bob, c));
        assertTrue(bobStates.isEmpty(), "bob, on the surviving node, never lost his registration: " + bobStates);
        assertTrue(daveStates.isEmpty(), "nor did dave: " + daveStates);
        assertEquals(Rendezvous.State.REGISTERED, bob.rendezvous().state());
        assertEquals(3, two.connectedDevices(), "node two: its own bob and dave, plus alice who moved; not carol");
        // The link between node two's own devices carried on through the other node's death.
        CompletableFuture<String> got = new CompletableFuture<>();
        bobToDave.channel().onMessage((m, how) -> got.complete(StandardCharsets.UTF_8.decode(m).toString()));
        daveToBob.channel().send(ByteBuffer.wrap("still here".getBytes(StandardCharsets.UTF_8))).toCompletableFuture()
                .get(10, TimeUnit.SECONDS);
        assertEquals("still here", got.get(10, TimeUnit.SECONDS));

        // Alice, now on node two with bob, links again.
        bob.onIncoming(request -> request.accept());
        PeerLink link = alice.connect(b).toCompletableFuture().get(15, TimeUnit.SECONDS);
        assertEquals(b, link.peer());
        link.close();
    }

    @Test
    void aRedisOutageMakesNodesNotReadyAndTheyRejoinWhenRedisReturns() throws Exception {
        DeviceId a = identity("a");
        DeviceId b = identity("b");
        DeviceId c = identity("c");
        Path list = allowList(a + " home\n" + b + " home\n" + c + " home\n");
        Duration keepalive = SHORT_KEEPALIVE;
        RedisServer redis = RedisServer.start();
        int port = redis.port();
        toClose.add(redis);
        ReferenceServer one = node(redis, list, keepalive);
        ReferenceServer two = node(redis, list, keepalive);
        Device alice = device("a", one.controlUri(), one.stunAddress());
        Device carol = device("c", one.controlUri(), one.stunAddress());
        Device bob = device("b", two.controlUri(), two.stunAddress());
        assertTrue(alice.rendezvous().isOnline(b).toCompletableFuture().get(5, TimeUnit.SECONDS));
        assertEquals(200, readyz(one).statusCode());
        List<Rendezvous.State> states = new java.util.concurrent.CopyOnWriteArrayList<>();
        alice.rendezvous().onStateChange(states::add);
        bob.rendezvous().onStateChange(states::add);

        redis.close();
        await("both nodes report Redis down on /readyz", () -> readyz(one).statusCode() == 503 && readyz(two).statusCode() == 503);
        assertEquals("unavailable: Redis at 127.0.0.1:" + port + " is unreachable\n", readyz(two).body());
        // Devices of another node: a clear answer, not a misleading UNKNOWN.
        ExecutionException e = assertThrows(ExecutionException.class, () -> alice.connect(b).toCompletableFuture().get(20, TimeUnit.SECONDS));
        UnreachableException u = assertInstanceOf(UnreachableException.class, e.getCause(), String.valueOf(e.getCause()));
        assertEquals(UnreachableException.Reason.OFFLINE, u.reason());
        assertTrue(u.getMessage().contains("cannot reach the devices of other nodes right now (Redis at 127.0.0.1:" + port
                + " is unreachable)"), u.getMessage());
        // Each node keeps serving its own devices: nobody is disconnected, and same-node presence still answers.
        assertTrue(alice.rendezvous().isOnline(c).toCompletableFuture().get(5, TimeUnit.SECONDS));
        assertEquals(2, one.connectedDevices());
        assertEquals(1, two.connectedDevices());

        // Redis comes back, empty (no persistence): Lettuce reconnects and re-subscribes, the next keepalive sweep re-writes
        // each node's entries, and devices on different nodes find and link to each other again.
        toClose.add(RedisServer.start(port));
        await("both nodes ready again", () -> readyz(one).statusCode() == 200 && readyz(two).statusCode() == 200);
        await("bob is visible from node one again", () -> {
            try {
                return alice.rendezvous().isOnline(b).toCompletableFuture().get(5, TimeUnit.SECONDS);
            } catch (Exception x) {
                throw new AssertionError(x);
            }
        });
        bob.onIncoming(request -> request.accept());
        // Known limitation (docs/operations.md): presence is back before every node's subscription
        // for introductions is, so the first cross-node connects right after the return can time
        // out; within 20 s (await) one must link.
        PeerLink[] linked = new PeerLink[1];
        await("a cross-node link opens again", () -> {
            try {
                linked[0] = alice.connect(b).toCompletableFuture().get(15, TimeUnit.SECONDS);
                return true;
            } catch (ExecutionException x) {
                assertInstanceOf(UnreachableException.class, x.getCause(), String.valueOf(x.getCause()));
                return false;
            } catch (Exception x) {
                throw new AssertionError(x);
            }
        });
        PeerLink link = linked[0];
        assertEquals(b, link.peer());
        link.close();
        assertTrue(states.isEmpty(), "no device lost its registration during the outage: " + states);
        assertEquals(Rendezvous.State.REGISTERED, carol.rendezvous().state());
    }

    private static java.net.http.HttpResponse<String> readyz(ReferenceServer server) {
        try {
            return java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(server.httpUri().resolve("/readyz"))
                    .timeout(Duration.ofSeconds(5)).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private Process startNodeProcess(RedisServer redis, Path allowList, Duration keepalive) throws Exception {
        Path javaBin = Path.of(System.getProperty("java.home"), "bin", "java");
        ProcessBuilder pb = new ProcessBuilder(javaBin.toString(), "-cp", System.getProperty("java.class.path"),
                NodeProcess.class.getName(), redis.uri(), prefix, allowList.toString(), Long.toString(keepalive.toMillis()));
        pb.redirectErrorStream(true);
        Process p = pb.start();
        toClose.add(() -> p.destroyForcibly().waitFor(10, TimeUnit.SECONDS));
        return p;
    }

    private static URI nodeUri(Process p) throws Exception {
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        CompletableFuture<URI> uri = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            StringBuilder seen = new StringBuilder();
            try {
                for (String line; (line = out.readLine()) != null; ) {
                    seen.append(line).append('\n');
                    if (line.startsWith("node ")) {
                        uri.complete(URI.create(line.substring(5).trim()));
                    }
                }
            } catch (java.io.IOException e) {
                // the process ended
            }
            uri.completeExceptionally(new AssertionError("node process ended before starting:\n" + seen));
        }, "node-process-output");
        reader.setDaemon(true);
        reader.start();
        return uri.get(60, TimeUnit.SECONDS);
    }
}
