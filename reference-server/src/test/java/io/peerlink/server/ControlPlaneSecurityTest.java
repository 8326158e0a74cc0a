package io.peerlink.server;

import io.peerlink.Candidate;
import io.peerlink.CandidateType;
import io.peerlink.Endpoint;
import io.peerlink.protocol.identity.DeviceIdentity;
import io.peerlink.protocol.rendezvous.ErrorCode;
import io.peerlink.protocol.rendezvous.Message;
import io.peerlink.protocol.rendezvous.ServerPin;
import io.peerlink.protocol.stun.Stun;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Each control-plane attack from the security review, performed against a real server; each test
 * also shows that an honest device keeps working (docs/security.md).
 */
class ControlPlaneSecurityTest {
    @TempDir
    Path dir;
    private final List<AutoCloseable> closeables = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
    }

    private ReferenceServer start(ServerConfig.Builder b) {
        ReferenceServer s = ReferenceServer.start(b.bindHost("127.0.0.1").httpPort(0).stunPort(0).coapPort(-1).open(true).build());
        closeables.add(s);
        return s;
    }

    private TestDevice device(URI uri) {
        TestDevice d = TestDevice.started(uri, DeviceIdentity.ephemeral());
        closeables.add(d);
        return d;
    }

    /** A PKCS#12 key store made now with the JDK's keytool: no key material lives in the repository. */
    private Path keyStore(String name) throws Exception {
        Path ks = dir.resolve(name + ".p12");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair", "-keyalg", "EC", "-groupname", "secp256r1", "-alias", "server", "-dname", "CN=" + name,
                "-validity", "2", "-storetype", "PKCS12", "-keystore", ks.toString(), "-storepass", "test-password",
                "-keypass", "test-password", "-ext", "SAN=ip:127.0.0.1").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), "keytool failed: " + out);
        return ks;
    }

    @Test
    void wssWithThePinnedKeyRegistersAndAWrongPinFailsClearly() throws Exception {
        ReferenceServer server = start(ServerConfig.builder().tls(new ServerConfig.Tls(keyStore("good"), "test-password")));
        assertEquals("wss", server.controlUri().getScheme());
        ServerPin pin = server.serverPin();
        assertNotNull(pin);

        // Through the public API, as an application configures it.
        io.peerlink.Device good = io.peerlink.PeerLinks.device().ephemeralIdentity().rendezvous(server.controlUri())
                .rendezvousPin(pin.toString()).stunServer(server.stunAddress()).udp(new InetSocketAddress("127.0.0.1", 0)).build();
        closeables.add(good);
        good.rendezvous().registered().toCompletableFuture().get(10, TimeUnit.SECONDS);

        // An impostor key (a man in the middle with a certificate of its own) is refused with both keys named.
        ServerPin wrong = ServerPin.parse("sha256/" + Base64.getEncoder().encodeToString(new byte[32]));
        io.peerlink.Device fooled = io.peerlink.PeerLinks.device().ephemeralIdentity().rendezvous(server.controlUri())
                .rendezvousPin(wrong.toString()).stunServer(server.stunAddress()).udp(new InetSocketAddress("127.0.0.1", 0)).build();
        closeables.add(fooled);
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> fooled.rendezvous().registered().toCompletableFuture().get(10, TimeUnit.SECONDS));
        assertTrue(e.getCause().getMessage().contains("does not match the pinned " + wrong), e.getCause().getMessage());
        assertTrue(e.getCause().getMessage().contains(pin.toString()), e.getCause().getMessage());
        // Without a pin the JDK's certificate authorities decide: a self-signed key is refused, in one line that
        // names the issuer and what to configure (docs/relay.md, "Through a TLS-inspecting proxy").
        io.peerlink.Device unpinned = io.peerlink.PeerLinks.device().ephemeralIdentity().rendezvous(server.controlUri())
                .stunServer(server.stunAddress()).udp(new InetSocketAddress("127.0.0.1", 0)).build();
        closeables.add(unpinned);
        ExecutionException untrusted = assertThrows(ExecutionException.class,
                () -> unpinned.rendezvous().registered().toCompletableFuture().get(10, TimeUnit.SECONDS));
        String why = untrusted.getCause().getMessage();
        assertTrue(why.contains("is not trusted") && why.contains("issuer 'CN=good'") && why.contains("--rendezvous-ca"), why);
        assertEquals(1, server.connectedDevices(), "the honest device stays registered");
    }

    @Test
    void aHelloSignedForAnotherServerIsRefused() throws Exception {
        ReferenceServer server = start(ServerConfig.builder().serverNames(List.of("rendezvous.example.org", "127.0.0.1")));
        TestDevice honest = device(server.controlUri());
        honest.awaitRegistered();
        // A malicious server "evil.example" forwards this server's challenge to its victim and relays the signed
        // hello: the victim signed the name it dialed, so the hello does not count here.
        try (RawControlClient relay = new RawControlClient(server.controlUri())) {
            relay.send(RawControlClient.hello(DeviceIdentity.ephemeral(), relay.challenge.nonce(), "evil.example", List.of()));
            Message.Error error = assertInstanceOf(Message.Error.class, relay.nextNonPing());
            assertEquals(ErrorCode.WRONG_SERVER, error.code(), error.message());
            assertTrue(relay.awaitClose() >= 1000);
        }
        assertEquals(1, server.connectedDevices());
    }

    @Test
    void connectionsOverThePerAddressCapAreClosedWhileOtherAddressesConnect() throws Exception {
        ReferenceServer server = start(ServerConfig.builder().limits(ServerConfig.Limits.defaults().withConnectionCaps(100, 3)));
        List<RawControlClient> fromOneHost = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            RawControlClient c = new RawControlClient(server.controlUri());
            closeables.add(c);
            fromOneHost.add(c);
        }
        // The fourth from 127.0.0.1 is closed at once (1013, try again later) without a challenge.
        int status = closedStatusOfUpgrade(new InetSocketAddress("127.0.0.1", 0), server);
        assertEquals(1013, status);
        // Another address (all of 127/8 is local on Linux) is not affected.
        assertEquals(-1, closedStatusOfUpgrade(new InetSocketAddress("127.0.0.2", 0), server), "127.0.0.2 gets its challenge");
        fromOneHost.get(0).close();
        // The server notices the close asynchronously; the freed slot must become usable again.
        int again = 0;
        for (long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10); System.nanoTime() < deadline; ) {
            again = closedStatusOfUpgrade(new InetSocketAddress("127.0.0.1", 0), server);
            if (again == -1) {
                break;
            }
            Thread.sleep(50);
        }
        assertEquals(-1, again, "a freed slot is usable again");
    }

    /**
     * Upgrades a raw socket from {@code source} and reads the first frame: a close frame's status, or -1 for a text
     * frame (the challenge).
     */
    private static int closedStatusOfUpgrade(InetSocketAddress source, ReferenceServer server) throws Exception {
        try (Socket s = new Socket()) {
            s.bind(source);
            s.connect(new InetSocketAddress("127.0.0.1", server.controlUri().getPort()), 5000);
            s.setSoTimeout(5000);
            upgrade(s, server);
            InputStream in = s.getInputStream();
            int opcode = in.read() & 0x0f;
            int len = in.read() & 0x7f;
            if (opcode == 0x8 && len >= 2) {
                return (in.read() << 8) | in.read();
            }
            return opcode == 0x1 ? -1 : -2;
        }
    }

    private static void upgrade(Socket s, ReferenceServer server) throws Exception {
        byte[] key = new byte[16];
        new SecureRandom().nextBytes(key);
        String request = "GET " + server.controlUri().getPath() + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                + "Connection: Upgrade\r\nSec-WebSocket-Key: " + Base64.getEncoder().encodeToString(key) + "\r\n"
                + "Sec-WebSocket-Version: 13\r\n\r\n";
        OutputStream out = s.getOutputStream();
        out.write(request.getBytes(StandardCharsets.US_ASCII));
        out.flush();
        InputStream in = s.getInputStream();
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            assertTrue(b >= 0, "connection closed during the upgrade: " + head);
            head.append((char) b);
        }
        assertTrue(head.toString().startsWith("HTTP/1.1 101"), head.toString());
    }

    @Test
    void aDeviceThatNeverReadsIsDisconnectedAndOthersKeepWorking() throws Exception {
        ReferenceServer server = start(ServerConfig.builder().limits(ServerConfig.Limits.defaults()
                .withMessageRate(1_000_000, 1_000_000).withMaxQueuedBytes(64 * 1024)));
        TestDevice honest = device(server.controlUri());
        honest.awaitRegistered();
        try (Socket s = new Socket()) {
            s.setReceiveBufferSize(4096);
            s.connect(new InetSocketAddress("127.0.0.1", server.controlUri().getPort()), 5000);
            upgrade(s, server);
            // Never read again; send admitted-looking traffic that each earns an error reply (~130 bytes).
            OutputStream out = s.getOutputStream();
            byte[] frame = maskedText("{\"type\":\"no-such-type-" + "x".repeat(30) + "\"}");
            boolean cut = false;
            s.setSoTimeout(100);
            for (int i = 0; i < 200_000 && !cut; i++) {
                try {
                    out.write(frame);
                } catch (java.io.IOException e) {
                    cut = true; // the server disconnected us
                }
            }
            assertTrue(cut, "the server must disconnect a reader that lets replies pile up");
        }
        assertTrue(honest.client.isOnline(honest.id()).toCompletableFuture().get(5, TimeUnit.SECONDS));
        assertEquals(1, server.connectedDevices());
    }

    private static byte[] maskedText(String text) {
        byte[] payload = text.getBytes(StandardCharsets.UTF_8);
        assertTrue(payload.length < 126);
        byte[] frame = new byte[2 + 4 + payload.length];
        frame[0] = (byte) 0x81;
        frame[1] = (byte) (0x80 | payload.length);
        byte[] mask = {1, 2, 3, 4};
        System.arraycopy(mask, 0, frame, 2, 4);
        for (int i = 0; i < payload.length; i++) {
            frame[6 + i] = (byte) (payload[i] ^ mask[i % 4]);
        }
        return frame;
    }

    @Test
    void stunAnswersAreBoundedPerSourceWhileOtherSourcesAreAnswered() throws Exception {
        ReferenceServer server = start(ServerConfig.builder().limits(ServerConfig.Limits.defaults().withStunPerSourcePerSecond(5)));
        InetSocketAddress stun = new InetSocketAddress("127.0.0.1", server.stunAddress().getPort());
        int answered;
        int sent = 200;
        long start = System.nanoTime();
        try (DatagramChannel flood = DatagramChannel.open()) {
            flood.bind(new InetSocketAddress("127.0.0.1", 0));
            for (int i = 0; i < sent; i++) {
                flood.send(bindingRequest(), stun);
            }
            answered = drain(flood);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        // The bound follows from the limit itself (burst 2 x 5, then 5 per second), not from how fast this machine is.
        double allowed = 2 * 5 + 5 * seconds + 1;
        assertTrue(answered <= allowed, "a burst of " + sent + " requests got " + answered + " answers in " + seconds + " s; allowed " + allowed);
        assertTrue(answered >= 1);
        try (DatagramChannel other = DatagramChannel.open()) {
            other.bind(new InetSocketAddress("127.0.0.3", 0));
            other.send(bindingRequest(), stun);
            assertEquals(1, drain(other), "another source is answered, once per request");
        }
    }

    private static ByteBuffer bindingRequest() {
        ByteBuffer b = ByteBuffer.allocate(20);
        b.putShort((short) 0x0001).putShort((short) 0).putInt(Stun.MAGIC_COOKIE);
        byte[] txid = new byte[12];
        new SecureRandom().nextBytes(txid);
        b.put(txid).flip();
        return b;
    }

    private static int drain(DatagramChannel ch) throws Exception {
        ch.configureBlocking(false);
        int n = 0;
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(700);
        ByteBuffer in = ByteBuffer.allocate(1500);
        while (System.nanoTime() < deadline) {
            in.clear();
            if (ch.receive(in) != null) {
                n++;
            } else {
                Thread.sleep(5);
            }
        }
        return n;
    }

    @Test
    void statusNeedsTheOperatorTokenAndIsOffWithoutOne() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        ReferenceServer closedByDefault = start(ServerConfig.builder());
        URI plain = URI.create("http://127.0.0.1:" + closedByDefault.controlUri().getPort() + "/status");
        assertEquals(404, http.send(HttpRequest.newBuilder(plain).build(), HttpResponse.BodyHandlers.ofString()).statusCode());

        String token = "operator-token-0123456789";
        ReferenceServer server = start(ServerConfig.builder().statusToken(token));
        device(server.controlUri()).awaitRegistered();
        URI status = URI.create("http://127.0.0.1:" + server.controlUri().getPort() + "/status");
        assertEquals(401, http.send(HttpRequest.newBuilder(status).build(), HttpResponse.BodyHandlers.ofString()).statusCode());
        assertEquals(401, http.send(HttpRequest.newBuilder(status).header("Authorization", "Bearer wrong-token-0123456789").build(),
                HttpResponse.BodyHandlers.ofString()).statusCode());
        HttpResponse<String> ok = http.send(HttpRequest.newBuilder(status).header("Authorization", "Bearer " + token).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, ok.statusCode());
        assertTrue(ok.body().startsWith("{") && ok.body().contains("\"devicesOnline\":1"), ok.body());
        assertTrue(ok.body().contains("\"stun\":{\"answered\":"), ok.body());
    }

    @Test
    void openModeForgetsDevicesThatLeave() throws Exception {
        ReferenceServer server = start(ServerConfig.builder());
        for (int i = 0; i < 5; i++) {
            try (TestDevice d = TestDevice.started(server.controlUri(), DeviceIdentity.ephemeral())) {
                d.awaitRegistered();
            }
        }
        TestDevice stays = device(server.controlUri());
        stays.awaitRegistered();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (server.knownDevices() > 1 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(1, server.knownDevices(), "only the device online is remembered");
    }

    @Test
    void candidatesPointingElsewhereAreDroppedBeforeAPeerSeesThem() throws Exception {
        ReferenceServer server = start(ServerConfig.builder());
        TestDevice attacker = device(server.controlUri());
        TestDevice victim = device(server.controlUri());
        List<Candidate> hostile = new ArrayList<>();
        hostile.add(candidate("0.0.0.0", 1000, CandidateType.HOST));
        hostile.add(candidate("224.0.0.1", 1000, CandidateType.HOST));
        hostile.add(candidate("255.255.255.255", 1000, CandidateType.HOST));
        hostile.add(candidate("198.51.100.9", 0, CandidateType.HOST));
        hostile.add(candidate("203.0.113.5", 4000, CandidateType.SERVER_REFLEXIVE)); // not where the attacker connects from
        for (int i = 0; i < 20; i++) {
            hostile.add(candidate("192.0.2.77", 5000, CandidateType.HOST)); // the same victim, many times
            hostile.add(candidate("192.0.2." + (100 + i), 5000, CandidateType.HOST));
        }
        attacker.client.updateCandidates(hostile.subList(0, 32));
        attacker.awaitRegistered();
        victim.awaitRegistered();
        victim.client.updateCandidates(List.of(candidate("10.9.9.9", 7000, CandidateType.HOST)));
        Thread.sleep(200);
        var intro = attacker.client.connect(victim.id()).toCompletableFuture().get(10, TimeUnit.SECONDS);
        assertEquals(List.of(candidate("10.9.9.9", 7000, CandidateType.HOST)), intro.peerCandidates());
        var atVictim = victim.introductions.poll(5, TimeUnit.SECONDS);
        assertNotNull(atVictim);
        List<Candidate> seen = atVictim.peerCandidates();
        assertTrue(seen.size() <= 8, seen.toString());
        assertEquals(seen.size(), seen.stream().map(Candidate::endpoint).distinct().count(), "duplicates: " + seen);
        for (Candidate c : seen) {
            InetAddress a = InetAddress.getByName(c.endpoint().host());
            assertFalse(a.isAnyLocalAddress() || a.isMulticastAddress() || c.endpoint().port() == 0
                    || c.endpoint().host().equals("255.255.255.255") || c.type() == CandidateType.SERVER_REFLEXIVE, c.toString());
        }
    }

    private static Candidate candidate(String host, int port, CandidateType type) {
        return new Candidate(new Endpoint("udp", host, port, ""), type, 1000);
    }
}
