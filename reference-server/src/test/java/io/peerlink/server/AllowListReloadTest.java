package io.peerlink.server;

import io.peerlink.PeerLinkException;
import io.peerlink.Rendezvous;
import io.peerlink.protocol.identity.DeviceIdentity;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** The allow-list file edited under a running server with real devices connected. */
class AllowListReloadTest {
    @TempDir
    Path dir;
    private final List<AutoCloseable> toClose = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    private <T extends AutoCloseable> T closing(T resource) {
        toClose.add(resource);
        return resource;
    }

    /** Writes the file and moves its modification time forward, so the change shows even within one timestamp tick. */
    private static void rewrite(Path file, String content, int generation) throws Exception {
        Files.writeString(file, content);
        Files.setLastModifiedTime(file, FileTime.from(Instant.now().plusSeconds(generation)));
    }

    private static void awaitTrue(java.util.function.BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out waiting until " + what);
            }
            Thread.sleep(50);
        }
    }

    @Test
    void editedListKeepsListedDevicesDisconnectsRemovedOnesAndAdmitsNewOnes() throws Exception {
        DeviceIdentity stays = DeviceIdentity.ephemeral();
        DeviceIdentity removed = DeviceIdentity.ephemeral();
        DeviceIdentity added = DeviceIdentity.ephemeral();
        Path list = dir.resolve("allow-list");
        Files.writeString(list, stays.id() + " lab\n" + removed.id() + " lab\n");
        ReferenceServer server = closing(ReferenceServer.start(ServerConfig.builder().bindHost("127.0.0.1").httpPort(0)
                .stunPort(-1).coapPort(-1).allowListFile(list).build()));
        TestDevice s = closing(TestDevice.started(server.controlUri(), stays));
        TestDevice r = closing(TestDevice.started(server.controlUri(), removed));
        s.awaitRegistered();
        r.awaitRegistered();
        assertEquals(removed.id(), s.client.connect(removed.id()).toCompletableFuture().get(10, TimeUnit.SECONDS).peer());
        s.states.clear();

        rewrite(list, stays.id() + " lab\n" + added.id() + " lab\n", 10);
        awaitTrue(() -> server.connectedDevices() == 1 && r.client.state() != Rendezvous.State.REGISTERED,
                "the removed device is disconnected");
        assertEquals(Rendezvous.State.REGISTERED, s.client.state());
        assertNull(s.states.poll(), "the device that stays listed never lost its connection");
        assertEquals(removed.id(), s.peersOffline.poll(10, TimeUnit.SECONDS), "its peer that was removed is reported offline");

        TestDevice a = closing(TestDevice.started(server.controlUri(), added));
        a.awaitRegistered();
        // The device that stayed reaches the newly listed one through the same, untouched control connection.
        assertEquals(added.id(), s.client.connect(added.id()).toCompletableFuture().get(10, TimeUnit.SECONDS).peer());

        // A broken edit keeps the previous list: nobody is dropped, and the listed devices still link.
        rewrite(list, "this is not a device id\n", 20);
        Thread.sleep(2 * ReferenceServer.ALLOW_LIST_CHECK_MILLIS + 200);
        assertEquals(2, server.connectedDevices());
        TestDevice again = closing(TestDevice.started(server.controlUri(), removed));
        ExecutionException denied = assertThrows(ExecutionException.class,
                () -> again.client.registered().toCompletableFuture().get(10, TimeUnit.SECONDS));
        assertInstanceOf(PeerLinkException.class, denied.getCause());
        assertTrue(denied.getCause().getMessage().contains("DENIED"), denied.getCause().getMessage());
    }
}
