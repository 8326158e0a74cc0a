package io.peerlink.cli;

import io.peerlink.Delivery;
import io.peerlink.MessageHandler;
import io.peerlink.ReliableChannel;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.concurrent.CompletionStage;

/**
 * The CLI's file transfer over a {@link ReliableChannel}: three kinds of ordered messages.
 * <pre>
 * 'F' name-length(2) name(UTF-8) size(8)    start of a file
 * 'D' bytes                                 a chunk
 * 'E' sha256(32)                            end of file, with its digest
 * </pre>
 * The receiver writes to a temporary file, checks the digest and moves it into place.
 */
final class FileTransfer {
    static final int CHUNK = 64 * 1024;

    private FileTransfer() {
    }

    /** Sends a stream, keeping at most a bounded number of chunks unacknowledged. */
    static String send(ReliableChannel channel, String name, InputStream in, long size, PrintStream progressOut)
            throws IOException, InterruptedException {
        MessageDigest sha = sha256();
        byte[] nameBytes = name.getBytes(StandardCharsets.UTF_8);
        ByteBuffer header = ByteBuffer.allocate(1 + 2 + nameBytes.length + 8);
        header.put((byte) 'F').putShort((short) nameBytes.length).put(nameBytes).putLong(size).flip();
        await(channel.send(header));
        Progress progress = progressOut == null ? null : new Progress(progressOut, size);
        byte[] buf = new byte[CHUNK];
        long sent = 0;
        java.util.ArrayDeque<CompletionStage<Void>> window = new java.util.ArrayDeque<>();
        int n;
        while ((n = in.readNBytes(buf, 0, buf.length)) > 0) {
            sha.update(buf, 0, n);
            ByteBuffer chunk = ByteBuffer.allocate(1 + n);
            chunk.put((byte) 'D').put(buf, 0, n).flip();
            CompletionStage<Void> last;
            while (true) {
                try {
                    last = channel.send(chunk);
                    // A stage that already failed with a full buffer: wait for room and retry.
                    last.toCompletableFuture().getNow(null);
                    break;
                } catch (java.util.concurrent.CompletionException e) {
                    if (e.getCause() instanceof io.peerlink.SendBufferFullException) {
                        await(channel.whenWritable());
                        chunk.rewind();
                        continue;
                    }
                    throw e;
                }
            }
            window.add(last);
            if (window.size() > 256) {
                await(window.poll());
            }
            sent += n;
            if (progress != null) {
                progress.update(sent);
            }
        }
        byte[] digest = sha.digest();
        ByteBuffer end = ByteBuffer.allocate(33);
        end.put((byte) 'E').put(digest).flip();
        await(channel.send(end));
        while (!window.isEmpty()) {
            await(window.poll());
        }
        if (progress != null && size == 0) {
            progress.update(0);
        }
        return HexFormat.of().formatHex(digest);
    }

    static void await(CompletionStage<?> stage) throws InterruptedException {
        try {
            stage.toCompletableFuture().get();
        } catch (java.util.concurrent.ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException(c);
        }
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Receives files into a directory; runs on the channel's event thread, so it only writes. */
    static final class Receiver implements MessageHandler {
        private final Path dir;
        private final PrintStream out;
        private Path temp;
        private OutputStream file;
        private MessageDigest sha;
        private String name;
        private long expected;
        private long received;
        private long startNanos;

        Receiver(Path dir, PrintStream out) {
            this.dir = dir;
            this.out = out;
        }

        @Override
        public void onMessage(ByteBuffer message, Delivery delivery) {
            try {
                handle(message);
            } catch (IOException | RuntimeException e) {
                out.println("error " + e.getMessage());
                out.flush();
            }
        }

        private void handle(ByteBuffer m) throws IOException {
            if (!m.hasRemaining()) {
                return;
            }
            byte kind = m.get();
            switch (kind) {
                case 'F' -> {
                    if (file != null) {
                        abandon("a new file header arrived before the end of " + name);
                    }
                    if (m.remaining() < 2) {
                        throw new IOException("truncated file header");
                    }
                    int nameLength = m.getShort() & 0xffff;
                    if (m.remaining() != nameLength + 8) {
                        throw new IOException("malformed file header: name length " + nameLength + ", " + m.remaining() + " bytes left");
                    }
                    byte[] n = new byte[nameLength];
                    m.get(n);
                    String claimed = new String(n, StandardCharsets.UTF_8);
                    Path fileName = claimed.isEmpty() ? null : Path.of(claimed).getFileName();
                    if (fileName == null || fileName.toString().equals("..") || fileName.toString().equals(".")) {
                        throw new IOException("refused file name '" + claimed + "'");
                    }
                    long size = m.getLong();
                    if (size < 0) {
                        throw new IOException("refused negative file size " + size);
                    }
                    name = fileName.toString();
                    expected = size;
                    received = 0;
                    sha = sha256();
                    Files.createDirectories(dir);
                    temp = Files.createTempFile(dir, ".incoming-", ".part");
                    file = Files.newOutputStream(temp);
                    startNanos = System.nanoTime();
                }
                case 'D' -> {
                    if (file == null) {
                        throw new IOException("data before file header");
                    }
                    int n = m.remaining();
                    if (received + n > expected) {
                        abandon("more data than the announced " + expected + " bytes of " + name);
                        return;
                    }
                    byte[] b = new byte[n];
                    m.get(b);
                    sha.update(b);
                    file.write(b);
                    received += n;
                }
                case 'E' -> {
                    if (file == null) {
                        throw new IOException("end before file header");
                    }
                    if (m.remaining() != 32) {
                        abandon("malformed end of file " + name);
                        return;
                    }
                    byte[] digest = new byte[32];
                    m.get(digest);
                    file.close();
                    file = null;
                    byte[] actual = sha.digest();
                    String hex = HexFormat.of().formatHex(actual);
                    if (!MessageDigest.isEqual(actual, digest) || received != expected) {
                        Files.deleteIfExists(temp);
                        out.println("error file " + name + " corrupt: " + received + "/" + expected + " bytes, sha256=" + hex);
                    } else {
                        Path target = dir.resolve(name);
                        Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
                        long ms = (System.nanoTime() - startNanos) / 1_000_000;
                        out.println("received " + target + " " + received + " bytes sha256=" + hex + " in " + ms + " ms");
                    }
                    out.flush();
                }
                default -> throw new IOException("unknown message kind " + kind);
            }
        }

        /** Drops the file in progress (closing and deleting its temporary file) and says why. */
        private void abandon(String why) throws IOException {
            OutputStream f = file;
            file = null;
            if (f != null) {
                f.close();
            }
            if (temp != null) {
                Files.deleteIfExists(temp);
            }
            throw new IOException("abandoned: " + why);
        }
    }
}
