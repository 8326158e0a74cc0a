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
        Path list = allowList(a + " home\n" + b + " home\n" + c + " home\n");
        Duration keepalive = Duration.ofMillis(300);
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
        List<Rendezvous.State> bobStates = new java.util.concurrent.CopyOnWriteArrayList<>();
        bob.rendezvous().onStateChange(bobStates::add);

        name.backend(two.controlUri().getPort());
        nodeOne.destroyForcibly().waitFor(10, TimeUnit.SECONDS);

        await("alice re-registers on node two", () -> two.connectedDevices() == 2
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
        assertEquals(Rendezvous.State.REGISTERED, bob.rendezvous().state());

        // Alice, now on node two with bob, links again.
        bob.onIncoming(request -> request.accept());
        PeerLink link = alice.connect(b).toCompletableFuture().get(15, TimeUnit.SECONDS);
        assertEquals(b, link.peer());
        link.close();
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
