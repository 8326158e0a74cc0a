package io.peerlink.protocol.identity;

import io.peerlink.DeviceId;
import io.peerlink.IdentityException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.junit.jupiter.api.Assertions.*;

class DeviceIdentityTest {
    @TempDir
    Path dir;

    @Test
    void createsOwnerOnlyKeyFileOnFirstUseAndLoadsTheSameIdentityLater() throws Exception {
        Path key = dir.resolve("device.key");
        DeviceIdentity created = DeviceIdentity.loadOrCreate(key);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(key)));
        String pem = Files.readString(key);
        assertTrue(pem.contains("-----BEGIN PRIVATE KEY-----"), pem);
        assertTrue(pem.contains("-----BEGIN PUBLIC KEY-----"), pem);
        DeviceIdentity loaded = DeviceIdentity.loadOrCreate(key);
        assertEquals(created.id(), loaded.id());
        assertArrayEquals(created.rawPublicKey(), loaded.rawPublicKey());
        assertEquals(DeviceId.fromPublicKey(loaded.rawPublicKey()), loaded.id());
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count(), "no temporary file may be left behind");
        }
    }

    @Test
    void signatureVerifiesWithRawKeyAndFailsForOtherMessageKeyOrGarbage() {
        DeviceIdentity a = DeviceIdentity.ephemeral();
        DeviceIdentity b = DeviceIdentity.ephemeral();
        byte[] msg = "hello".getBytes(StandardCharsets.UTF_8);
        byte[] sig = a.sign(msg);
        assertEquals(64, sig.length);
        assertTrue(DeviceIdentity.verify(a.rawPublicKey(), msg, sig));
        assertFalse(DeviceIdentity.verify(b.rawPublicKey(), msg, sig));
        assertFalse(DeviceIdentity.verify(a.rawPublicKey(), "hellO".getBytes(StandardCharsets.UTF_8), sig));
        assertFalse(DeviceIdentity.verify(new byte[31], msg, sig));
        assertFalse(DeviceIdentity.verify(a.rawPublicKey(), msg, new byte[63]));
        byte[] notAPoint = new byte[32];
        java.util.Arrays.fill(notAPoint, (byte) 0xff);
        assertFalse(DeviceIdentity.verify(notAPoint, msg, sig));
        assertNotEquals(a.id(), b.id());
    }

    @Test
    void missingParentDirectoryIsAClearError() {
        Path key = dir.resolve("no-such-dir").resolve("device.key");
        IdentityException e = assertThrows(IdentityException.class, () -> DeviceIdentity.loadOrCreate(key));
        assertTrue(e.getMessage().contains("parent directory"), e.getMessage());
    }

    @Test
    void groupOrWorldReadableKeyIsRefusedWithChmodAdvice() throws Exception {
        Path key = dir.resolve("device.key");
        DeviceIdentity.loadOrCreate(key);
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-r--r--"));
        IdentityException e = assertThrows(IdentityException.class, () -> DeviceIdentity.loadOrCreate(key));
        assertTrue(e.getMessage().contains("chmod 600"), e.getMessage());
    }

    @Test
    void unreadableKeyPathIsAClearError() throws Exception {
        // Tests run as root, which can read any file; a directory in the key's place is unreadable for everyone.
        Path key = dir.resolve("device.key");
        Files.createDirectory(key, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        IdentityException e = assertThrows(IdentityException.class, () -> DeviceIdentity.loadOrCreate(key));
        assertTrue(e.getMessage().contains("unreadable"), e.getMessage());
    }

    @Test
    void corruptKeyFilesAreRefused() throws Exception {
        Path key = dir.resolve("device.key");
        writeOwnerOnly(key, "this is not a key\n");
        assertTrue(assertThrows(IdentityException.class, () -> DeviceIdentity.loadOrCreate(key)).getMessage().contains("corrupt"));

        writeOwnerOnly(key, "-----BEGIN PRIVATE KEY-----\n!!!\n-----END PRIVATE KEY-----\n-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n");
        assertTrue(assertThrows(IdentityException.class, () -> DeviceIdentity.loadOrCreate(key)).getMessage().contains("corrupt"));

        writeOwnerOnly(key, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n");
        assertTrue(assertThrows(IdentityException.class, () -> DeviceIdentity.loadOrCreate(key)).getMessage().contains("corrupt"));
    }

    @Test
    void keyFileWhoseHalvesBelongToDifferentDevicesIsCorrupt() throws Exception {
        Path a = dir.resolve("a.key");
        Path b = dir.resolve("b.key");
        DeviceIdentity.loadOrCreate(a);
        DeviceIdentity.loadOrCreate(b);
        String pa = Files.readString(a);
        String pb = Files.readString(b);
        String mixed = pa.substring(0, pa.indexOf("-----BEGIN PUBLIC KEY-----")) + pb.substring(pb.indexOf("-----BEGIN PUBLIC KEY-----"));
        Path key = dir.resolve("mixed.key");
        writeOwnerOnly(key, mixed);
        IdentityException e = assertThrows(IdentityException.class, () -> DeviceIdentity.loadOrCreate(key));
        assertTrue(e.getMessage().contains("do not belong together"), e.getMessage());
    }

    @Test
    void foreignKeyFileIsRefusedWhenAnotherDeviceIsExpected() {
        Path key = dir.resolve("device.key");
        DeviceIdentity mine = DeviceIdentity.loadOrCreate(key);
        assertEquals(mine.id(), DeviceIdentity.loadOrCreate(key, mine.id()).id());
        DeviceId other = DeviceIdentity.ephemeral().id();
        IdentityException e = assertThrows(IdentityException.class, () -> DeviceIdentity.loadOrCreate(key, other));
        assertTrue(e.getMessage().contains("belongs to device " + mine.id()), e.getMessage());
    }

    private static void writeOwnerOnly(Path file, String text) throws Exception {
        Files.writeString(file, text);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    }

    /** Two processes (here: threads) creating the same key file at once all end up with the one key on disk. */
    @Test
    void concurrentCreatorsAgreeOnOneKeyAndLeaveNoTemporaryFiles() throws Exception {
        for (int round = 0; round < 10; round++) {
            Path key = dir.resolve("race-" + round + ".key");
            java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(8);
            java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
            java.util.List<java.util.concurrent.Future<DeviceId>> ids = new java.util.ArrayList<>();
            for (int i = 0; i < 8; i++) {
                ids.add(pool.submit(() -> {
                    go.await();
                    return DeviceIdentity.loadOrCreate(key).id();
                }));
            }
            go.countDown();
            DeviceId onDisk = null;
            for (java.util.concurrent.Future<DeviceId> f : ids) {
                DeviceId id = f.get(30, java.util.concurrent.TimeUnit.SECONDS);
                onDisk = onDisk == null ? DeviceIdentity.loadOrCreate(key).id() : onDisk;
                assertEquals(onDisk, id, "every creator must use the key that is on disk");
            }
            pool.shutdown();
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(key)));
        }
        try (java.util.stream.Stream<Path> files = Files.list(dir)) {
            assertTrue(files.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")), "temporary files left behind");
        }
    }
}
