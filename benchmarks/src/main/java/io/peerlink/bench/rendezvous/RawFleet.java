package io.peerlink.bench.rendezvous;

import io.peerlink.protocol.rendezvous.ErrorCode;
import io.peerlink.protocol.rendezvous.Handshake;
import io.peerlink.protocol.rendezvous.Message;
import io.peerlink.protocol.rendezvous.ProtocolException;
import io.peerlink.protocol.rendezvous.RendezvousCodec;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * A lean load generator for admission storms: the same devices and the same control protocol as
 * {@link Fleet} (HTTP upgrade, challenge, signed {@code hello} or ticket {@code resume}, welcome,
 * protocol pings answered), but each connection is a plain non-blocking {@link SocketChannel} on
 * one selector thread with RFC 6455 framing done here, instead of Jetty's WebSocket client. The
 * simulated devices share the server's cores, and Jetty's client cost them about half a
 * millisecond of CPU per admission, CPU a real fleet spends on its own machines. Messages are
 * still encoded and decoded with the protocol's {@link RendezvousCodec}.
 */
final class RawFleet implements AutoCloseable {
    private static final byte[] CRLFCRLF = "\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final String KEY = "cGVlcmxpbmstc3Rvcm0tMQ==";

    final LongAdder resumed = new LongAdder();
    final LongAdder ticketsRejected = new LongAdder();
    final LongAdder serverErrors = new LongAdder();
    private final URI server;
    private final InetSocketAddress serverAddress;
    private final String serverName;
    private final List<InetSocketAddress> sources = new ArrayList<>();
    private final RendezvousCodec codec = new RendezvousCodec();
    private final Selector selector;
    private final Thread loop;
    private final ConcurrentLinkedQueue<Conn> pending = new ConcurrentLinkedQueue<>();
    private final List<Conn> all = new ArrayList<>();
    private final byte[] upgrade;
    private final String expectedAccept;
    private volatile boolean running = true;
    private volatile Semaphore inFlight;
    private volatile CountDownLatch done;
    private final LongAdder failed = new LongAdder();
    private final LongAdder notes = new LongAdder();

    /**
     * @param server the control URI ({@code ws://host:port/path})
     * @param sourceAddresses loopback source addresses 127.1.x.y to spread connections over
     * @throws IOException if the selector cannot be opened
     */
    RawFleet(URI server, int sourceAddresses) throws IOException {
        this.server = server;
        this.serverAddress = new InetSocketAddress(server.getHost(), server.getPort());
        this.serverName = Handshake.serverName(server);
        for (int i = 0; i < sourceAddresses; i++) {
            sources.add(new InetSocketAddress(Fleet.loopback(i), 0));
        }
        String path = server.getRawPath() == null || server.getRawPath().isEmpty() ? "/" : server.getRawPath();
        upgrade = ("GET " + path + " HTTP/1.1\r\nHost: " + server.getHost() + ":" + server.getPort()
                + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + KEY
                + "\r\nSec-WebSocket-Version: 13\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        try {
            expectedAccept = Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-1")
                    .digest((KEY + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").getBytes(StandardCharsets.US_ASCII)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        selector = Selector.open();
        loop = new Thread(this::run, "raw-fleet");
        loop.setDaemon(true);
        loop.start();
    }

    /**
     * Connects every device at once, at most {@code parallelism} handshakes in flight, each one
     * resuming with its held ticket when it has one (and {@code resume}), else with a signed hello.
     *
     * @param devices the devices (their keys, tickets and secrets; updated from each welcome)
     * @param parallelism handshakes in flight
     * @param resume answer the challenge with a {@code resume} when a ticket is held
     * @return registered and failed devices and the elapsed time
     * @throws InterruptedException if interrupted
     */
    Fleet.ConnectResult connect(List<LoadDevice> devices, int parallelism, boolean resume) throws InterruptedException {
        inFlight = new Semaphore(parallelism);
        done = new CountDownLatch(devices.size());
        long start = System.nanoTime();
        int next = 0;
        for (LoadDevice d : devices) {
            inFlight.acquire();
            Conn c = new Conn(d, resume && d.ticket != null, sources.get(next++ % sources.size()));
            synchronized (all) {
                all.add(c);
            }
            pending.add(c);
            selector.wakeup();
        }
        if (!done.await(120, TimeUnit.SECONDS)) {
            System.err.println("  ! raw fleet: " + done.getCount() + " devices still not registered after 120 s");
        }
        long nanos = System.nanoTime() - start;
        int failures = (int) (failed.sum() + done.getCount());
        return new Fleet.ConnectResult(devices.size() - failures, failures, nanos);
    }

    private void run() {
        while (running) {
            try {
                selector.select(100);
                Conn c;
                while ((c = pending.poll()) != null) {
                    c.open();
                }
                var it = selector.selectedKeys().iterator();
                while (it.hasNext()) {
                    SelectionKey k = it.next();
                    it.remove();
                    Conn conn = (Conn) k.attachment();
                    try {
                        if (!k.isValid()) {
                            continue;
                        }
                        if (k.isConnectable()) {
                            conn.connected();
                        } else {
                            if (k.isWritable()) {
                                conn.flush();
                            }
                            if (k.isValid() && k.isReadable()) {
                                conn.read();
                            }
                        }
                    } catch (IOException | RuntimeException e) {
                        conn.fail("connection error: " + e);
                    }
                }
            } catch (IOException e) {
                System.err.println("  ! raw fleet selector: " + e);
            }
        }
    }

    private void note(String text) {
        notes.increment();
        if (notes.sum() <= 20) {
            System.err.println("  ! " + text);
        }
    }

    /** Closes every connection and the selector thread. */
    @Override
    public void close() {
        running = false;
        selector.wakeup();
        try {
            loop.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (all) {
            for (Conn c : all) {
                try {
                    c.channel.close();
                } catch (IOException | RuntimeException e) {
                    // closing at the end of the run: nothing to do
                }
            }
        }
        try {
            selector.close();
        } catch (IOException e) {
            // ignored at the end of the run
        }
        codec.close();
    }

    /** One device's connection; touched only by the selector thread once queued. */
    private final class Conn {
        final LoadDevice device;
        final boolean resume;
        final InetSocketAddress source;
        SocketChannel channel;
        SelectionKey key;
        ByteBuffer in = ByteBuffer.allocate(4096);
        ByteBuffer out;
        boolean upgraded;
        boolean finished;
        boolean resumeSent;
        InetSocketAddress local;

        Conn(LoadDevice device, boolean resume, InetSocketAddress source) {
            this.device = device;
            this.resume = resume;
            this.source = source;
        }

        void open() {
            try {
                channel = SocketChannel.open();
                channel.configureBlocking(false);
                channel.bind(source);
                key = channel.register(selector, 0, this);
                if (channel.connect(serverAddress)) {
                    connected();
                } else {
                    key.interestOps(SelectionKey.OP_CONNECT);
                }
            } catch (IOException e) {
                fail("connect: " + e);
            }
        }

        void connected() throws IOException {
            channel.finishConnect();
            local = (InetSocketAddress) channel.getLocalAddress();
            key.interestOps(SelectionKey.OP_READ);
            write(ByteBuffer.wrap(upgrade));
        }

        void write(ByteBuffer data) throws IOException {
            if (out != null && out.hasRemaining()) {
                ByteBuffer joined = ByteBuffer.allocate(out.remaining() + data.remaining());
                joined.put(out).put(data).flip();
                out = joined;
            } else {
                out = data;
            }
            flush();
        }

        void flush() throws IOException {
            channel.write(out);
            key.interestOps(out.hasRemaining() ? SelectionKey.OP_READ | SelectionKey.OP_WRITE : SelectionKey.OP_READ);
        }

        void read() throws IOException {
            if (!in.hasRemaining()) {
                ByteBuffer bigger = ByteBuffer.allocate(in.capacity() * 2);
                in.flip();
                bigger.put(in);
                in = bigger;
            }
            int n = channel.read(in);
            if (n < 0) {
                fail("closed by the server");
                return;
            }
            in.flip();
            if (!upgraded && !readUpgrade()) {
                in.compact();
                return;
            }
            while (frame()) {
                // each complete frame handled
            }
            in.compact();
        }

        private boolean readUpgrade() {
            int end = indexOf(in, CRLFCRLF);
            if (end < 0) {
                return false;
            }
            byte[] head = new byte[end];
            in.get(head);
            in.position(in.position() + CRLFCRLF.length);
            String response = new String(head, StandardCharsets.ISO_8859_1);
            if (!response.startsWith("HTTP/1.1 101") || !response.contains(expectedAccept)) {
                fail("upgrade refused: " + response.lines().findFirst().orElse(""));
                return false;
            }
            upgraded = true;
            return true;
        }

        /** @return true if a whole frame was consumed */
        private boolean frame() throws IOException {
            if (finished && !channel.isOpen()) {
                return false;
            }
            int start = in.position();
            if (in.remaining() < 2) {
                return false;
            }
            int b0 = in.get(start) & 0xFF;
            int b1 = in.get(start + 1) & 0xFF;
            int opcode = b0 & 0x0F;
            long length = b1 & 0x7F;
            int header = 2;
            if (length == 126) {
                if (in.remaining() < 4) {
                    return false;
                }
                length = in.getShort(start + 2) & 0xFFFF;
                header = 4;
            } else if (length == 127) {
                if (in.remaining() < 10) {
                    return false;
                }
                length = in.getLong(start + 2);
                header = 10;
            }
            if ((b1 & 0x80) != 0 || (b0 & 0x80) == 0) {
                fail("unexpected frame from the server (masked or fragmented)");
                return false;
            }
            if (in.remaining() < header + length) {
                return false;
            }
            byte[] payload = new byte[(int) length];
            in.position(start + header);
            in.get(payload);
            switch (opcode) {
                case 1 -> text(new String(payload, StandardCharsets.UTF_8));
                case 8 -> fail("WebSocket close from the server");
                case 9 -> write(frame(0xA, payload));
                default -> {
                    // pong or binary: not part of an admission
                }
            }
            return true;
        }

        private void text(String text) throws IOException {
            Message m;
            try {
                m = codec.decode(text);
            } catch (ProtocolException e) {
                fail("undecodable message from the server: " + e.getMessage());
                return;
            }
            if (m instanceof Message.Challenge challenge) {
                Message answer;
                if (resume && !resumeSent) {
                    resumeSent = true;
                    answer = new Message.Resume(Handshake.VERSION, device.id, serverName, device.ticket,
                            Handshake.resumeProof(device.resumptionSecret, challenge.nonce(), device.id, serverName), Map.of(),
                            LoadDevice.candidates(local, device.index));
                } else {
                    answer = new Message.Hello(Handshake.VERSION, device.id, device.publicKey(),
                            device.sign(Handshake.signedPayload(challenge.nonce(), device.id, serverName)), serverName, Map.of(),
                            LoadDevice.candidates(local, device.index));
                }
                write(frame(0x1, codec.encode(answer).getBytes(StandardCharsets.UTF_8)));
            } else if (m instanceof Message.Welcome w) {
                if (w.ticket() != null) {
                    device.ticket = w.ticket();
                    device.resumptionSecret = w.resumptionSecret();
                }
                if (resumeSent) {
                    resumed.increment();
                }
                succeed();
            } else if (m instanceof Message.Ping ping) {
                write(frame(0x1, codec.encode(new Message.Pong(ping.t())).getBytes(StandardCharsets.UTF_8)));
            } else if (m instanceof Message.Error error) {
                serverErrors.increment();
                if (error.code() == ErrorCode.TICKET_REJECTED && !finished) {
                    ticketsRejected.increment(); // a fresh challenge follows, answered with a signed hello
                    return;
                }
                if (!finished) {
                    fail("server refused: " + error.code() + " " + error.message());
                }
            }
        }

        private ByteBuffer frame(int opcode, byte[] payload) {
            int header = payload.length < 126 ? 2 : payload.length < 65536 ? 4 : 10;
            ByteBuffer f = ByteBuffer.allocate(header + 4 + payload.length);
            f.put((byte) (0x80 | opcode));
            if (header == 2) {
                f.put((byte) (0x80 | payload.length));
            } else if (header == 4) {
                f.put((byte) (0x80 | 126)).putShort((short) payload.length);
            } else {
                f.put((byte) (0x80 | 127)).putLong(payload.length);
            }
            int mask = ThreadLocalRandom.current().nextInt();
            f.putInt(mask);
            byte[] m = {(byte) (mask >>> 24), (byte) (mask >>> 16), (byte) (mask >>> 8), (byte) mask};
            for (int i = 0; i < payload.length; i++) {
                f.put((byte) (payload[i] ^ m[i & 3]));
            }
            return f.flip();
        }

        private void succeed() {
            if (!finished) {
                finished = true;
                inFlight.release();
                done.countDown();
            }
        }

        void fail(String why) {
            if (!finished) {
                finished = true;
                failed.increment();
                note("device " + device.index + " did not register: " + why);
                inFlight.release();
                done.countDown();
            }
            try {
                if (channel != null) {
                    channel.close();
                }
            } catch (IOException e) {
                // already failed
            }
        }
    }

    private static int indexOf(ByteBuffer b, byte[] needle) {
        for (int i = b.position(); i <= b.limit() - needle.length; i++) {
            boolean match = true;
            for (int j = 0; j < needle.length; j++) {
                if (b.get(i + j) != needle[j]) {
                    match = false;
                    break;
                }
            }
            if (match) {
                return i - b.position();
            }
        }
        return -1;
    }

    /** @return the control URI this fleet connects to */
    URI server() {
        return server;
    }
}
