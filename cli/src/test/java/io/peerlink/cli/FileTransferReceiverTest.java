package io.peerlink.cli;

import io.peerlink.Delivery;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The receiving side of the CLI's file transfer facing a hostile or broken sender. */
class FileTransferReceiverTest {

    @TempDir
    Path dir;

    private final ByteArrayOutputStream log = new ByteArrayOutputStream();

    private FileTransfer.Receiver receiver() {
        return new FileTransfer.Receiver(dir, new PrintStream(log, true, StandardCharsets.UTF_8));
    }

    private static ByteBuffer header(String name, long size) {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(1 + 2 + n.length + 8).put((byte) 'F').putShort((short) n.length).put(n).putLong(size).flip();
    }

    private static ByteBuffer data(byte[] bytes) {
        return ByteBuffer.allocate(1 + bytes.length).put((byte) 'D').put(bytes).flip();
    }

    private static ByteBuffer end(byte[] content) throws Exception {
        return ByteBuffer.allocate(33).put((byte) 'E').put(MessageDigest.getInstance("SHA-256").digest(content)).flip();
    }

    private long filesIn(Path d) throws Exception {
        try (Stream<Path> s = Files.list(d)) {
            return s.count();
        }
    }

    @Test
    void writesAnHonestFile() throws Exception {
        FileTransfer.Receiver r = receiver();
        byte[] content = "hello".getBytes(StandardCharsets.UTF_8);
        r.onMessage(header("a.txt", content.length), Delivery.ORDERED);
        r.onMessage(data(content), Delivery.ORDERED);
        r.onMessage(end(content), Delivery.ORDERED);
        assertEquals("hello", Files.readString(dir.resolve("a.txt")));
    }

    @Test
    void stopsAtTheAnnouncedSizeAndLeavesNothingBehind() throws Exception {
        FileTransfer.Receiver r = receiver();
        r.onMessage(header("big.bin", 4), Delivery.ORDERED);
        r.onMessage(data(new byte[3]), Delivery.ORDERED);
        r.onMessage(data(new byte[3]), Delivery.ORDERED);
        assertTrue(log.toString(StandardCharsets.UTF_8).contains("more data than the announced 4 bytes"), log::toString);
        assertEquals(0, filesIn(dir), "the partial file must be deleted");
        r.onMessage(data(new byte[3]), Delivery.ORDERED);
        assertTrue(log.toString(StandardCharsets.UTF_8).contains("data before file header"), log::toString);
    }

    @Test
    void aRepeatedHeaderClosesAndDeletesTheFileInProgress() throws Exception {
        FileTransfer.Receiver r = receiver();
        r.onMessage(header("one.bin", 10), Delivery.ORDERED);
        r.onMessage(data(new byte[5]), Delivery.ORDERED);
        r.onMessage(header("two.bin", 10), Delivery.ORDERED);
        assertTrue(log.toString(StandardCharsets.UTF_8).contains("new file header arrived before the end of one.bin"), log::toString);
        assertEquals(0, filesIn(dir));
    }

    @Test
    void refusesMalformedHeadersAndPathTricks() throws Exception {
        FileTransfer.Receiver r = receiver();
        r.onMessage(ByteBuffer.wrap(new byte[] {'F', 0x7f, 0x7f, 1}), Delivery.ORDERED);
        r.onMessage(header("..", 1), Delivery.ORDERED);
        r.onMessage(header("", 1), Delivery.ORDERED);
        r.onMessage(header("x", -5), Delivery.ORDERED);
        String out = log.toString(StandardCharsets.UTF_8);
        assertTrue(out.contains("malformed file header"), out);
        assertTrue(out.contains("refused file name '..'"), out);
        assertTrue(out.contains("refused file name ''"), out);
        assertTrue(out.contains("refused negative file size"), out);
        byte[] content = "ok".getBytes(StandardCharsets.UTF_8);
        r.onMessage(header("../../escape.txt", content.length), Delivery.ORDERED);
        r.onMessage(data(content), Delivery.ORDERED);
        r.onMessage(end(content), Delivery.ORDERED);
        assertEquals("ok", Files.readString(dir.resolve("escape.txt")), "a path is reduced to its file name inside the directory");
        assertEquals(1, filesIn(dir));
    }
}
