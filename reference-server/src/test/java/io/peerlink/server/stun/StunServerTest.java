package io.peerlink.server.stun;

import io.peerlink.protocol.stun.Stun;
import io.peerlink.protocol.stun.StunClient;
import io.peerlink.protocol.stun.StunMessage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

class StunServerTest {
    private StunServer server;

    @BeforeEach
    void start() {
        server = StunServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    }

    @AfterEach
    void stop() {
        server.close();
    }

    @Test
    void answersBindingRequestWithTheSourceAddress() throws Exception {
        try (java.net.DatagramSocket socket = new java.net.DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            socket.setSoTimeout(2000);
            Optional<InetSocketAddress> mapped = bind(socket, StunClient.newTransactionId());
            assertEquals(Optional.of((InetSocketAddress) socket.getLocalSocketAddress()), mapped);
        }
    }

    @Test
    void answersUnknownComprehensionRequiredAttributeWith420() throws Exception {
        byte[] txid = StunClient.newTransactionId();
        ByteBuffer req = ByteBuffer.allocate(28);
        req.putShort((short) 1).putShort((short) 8).putInt(Stun.MAGIC_COOKIE).put(txid);
        req.putShort((short) 0x0003).putShort((short) 4).putInt(0x00000006); // CHANGE-REQUEST (RFC 5780)
        try (java.net.DatagramSocket socket = new java.net.DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            socket.setSoTimeout(2000);
            socket.send(new java.net.DatagramPacket(req.array(), 28, server.localAddress()));
            java.net.DatagramPacket p = new java.net.DatagramPacket(new byte[1500], 1500);
            socket.receive(p);
            StunMessage m = new StunMessage();
            m.decode(ByteBuffer.wrap(p.getData(), 0, p.getLength()));
            assertEquals(Stun.BINDING_ERROR, m.type());
            assertEquals(420, m.errorCode());
            assertTrue(m.hasTransactionId(txid));
        }
    }

    @Test
    void garbageFloodDoesNotStopAnswersToValidRequests() throws Exception {
        AtomicBoolean flooding = new AtomicBoolean(true);
        AtomicLong garbageSent = new AtomicLong();
        Thread flooder = new Thread(() -> {
            Random random = new Random(42);
            byte[] stunLooking = StunClient.request(StunClient.newTransactionId()).array();
            try (DatagramChannel ch = DatagramChannel.open()) {
                ch.connect(server.localAddress());
                ByteBuffer buf = ByteBuffer.allocate(1400);
                while (flooding.get()) {
                    buf.clear();
                    int kind = random.nextInt(3);
                    if (kind == 0) {
                        byte[] junk = new byte[1 + random.nextInt(1399)];
                        random.nextBytes(junk);
                        buf.put(junk);
                    } else {
                        // Valid-looking header with a broken FINGERPRINT or truncated: costs a full decode.
                        byte[] copy = stunLooking.clone();
                        copy[copy.length - 1 - random.nextInt(4)] ^= 0x5a;
                        buf.put(copy, 0, kind == 1 ? copy.length : 20 + random.nextInt(8));
                    }
                    buf.flip();
                    try {
                        ch.write(buf);
                        garbageSent.incrementAndGet();
                    } catch (java.io.IOException e) {
                        // ECONNREFUSED after the server closes at the end of the test
                    }
                }
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }, "garbage-flooder");
        flooder.start();
        // Only start asking once the flood is under way, so every valid request competes with it.
        while (garbageSent.get() < 2000 && flooder.isAlive()) {
            Thread.onSpinWait();
        }
        try (java.net.DatagramSocket socket = new java.net.DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            socket.setSoTimeout(250);
            InetSocketAddress expected = (InetSocketAddress) socket.getLocalSocketAddress();
            for (int i = 0; i < 200; i++) {
                byte[] txid = StunClient.newTransactionId();
                Optional<InetSocketAddress> mapped = Optional.empty();
                // Retransmit like an RFC 8489 client: the kernel may drop a request when the buffer is full.
                for (int attempt = 0; attempt < 20 && mapped.isEmpty(); attempt++) {
                    mapped = bind(socket, txid);
                }
                assertEquals(Optional.of(expected), mapped, "request " + i + " never answered during the flood");
            }
        } finally {
            flooding.set(false);
            flooder.join();
        }
        assertTrue(server.dropped() >= 2000, "the server saw and dropped the garbage: " + server.dropped());
        assertTrue(server.answered() >= 200);
    }

    @Test
    void coturnStunClientSeesTheAddressOurServerSaw() throws Exception {
        String tool = "turnutils_stunclient";
        boolean installed = false;
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            installed |= new File(dir, tool).canExecute();
        }
        if (!installed) {
            if ("true".equals(System.getenv("CI"))) {
                fail(tool + " (Debian package coturn) is missing; CI must install it (apt-get install -y coturn)");
            }
            Assumptions.abort(tool + " not installed: install coturn to run the STUN interop test");
        }
        Process process = new ProcessBuilder(tool, "-p", Integer.toString(server.localAddress().getPort()), "127.0.0.1")
                .redirectErrorStream(true).start();
        assertTrue(process.waitFor(30, TimeUnit.SECONDS), tool + " did not finish");
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, process.exitValue(), output);
        // coturn prints e.g. "0: : IPv4. UDP reflexive addr: 127.0.0.1:45678"
        Matcher m = Pattern.compile("UDP reflexive addr: ([0-9.]+):(\\d+)").matcher(output);
        assertTrue(m.find(), "no reflexive address in coturn's output:\n" + output);
        InetSocketAddress seen = server.lastAnswered();
        assertNotNull(seen, "our server answered nothing");
        assertEquals(seen.getAddress().getHostAddress(), m.group(1), output);
        assertEquals(seen.getPort(), Integer.parseInt(m.group(2)), output);
    }

    private Optional<InetSocketAddress> bind(java.net.DatagramSocket socket, byte[] txid) throws Exception {
        ByteBuffer request = StunClient.request(txid);
        socket.send(new java.net.DatagramPacket(request.array(), request.remaining(), server.localAddress()));
        java.net.DatagramPacket p = new java.net.DatagramPacket(new byte[1500], 1500);
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(socket.getSoTimeout());
        while (System.nanoTime() < deadline) {
            try {
                socket.receive(p);
            } catch (SocketTimeoutException e) {
                return Optional.empty();
            }
            Optional<InetSocketAddress> mapped = StunClient.parseResponse(ByteBuffer.wrap(p.getData(), 0, p.getLength()), txid);
            if (mapped.isPresent()) {
                return mapped;
            }
        }
        return Optional.empty();
    }
}
