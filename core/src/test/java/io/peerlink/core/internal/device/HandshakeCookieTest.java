package io.peerlink.core.internal.device;

import io.peerlink.Device;
import io.peerlink.DeviceId;
import io.peerlink.PeerLink;
import io.peerlink.PeerLinks;
import io.peerlink.core.internal.link.SetupPacket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Stateless handshake cookies against spoofed-source floods of direct link requests
 * (docs/protocol-punching.md, "Handshake cookies"). The flood comes from 20 loopback addresses
 * whose senders never read what comes back, as spoofed sources would not.
 */
class HandshakeCookieTest {
    private static final InetSocketAddress LOOPBACK = new InetSocketAddress("127.0.0.1", 0);
    private final List<Device> devices = new ArrayList<>();

    @AfterEach
    void closeDevices() {
        devices.forEach(Device::close);
    }

    private DeviceImpl listener(double cookieFreePerSecond) {
        DeviceBuilderImpl b = (DeviceBuilderImpl) PeerLinks.device().ephemeralIdentity().udp(LOOPBACK);
        b.cookieFreeRequestsPerSecond = cookieFreePerSecond;
        DeviceImpl target = (DeviceImpl) b.build();
        devices.add(target);
        target.onIncoming(req -> req.accept());
        return target;
    }

    private Device dialer() {
        Device d = PeerLinks.device().ephemeralIdentity().udp(LOOPBACK).connectTimeout(Duration.ofSeconds(15)).build();
        devices.add(d);
        return d;
    }

    @Test
    void aSpoofedFloodGetsCookiesAndNoStateWhileGenuineHandshakesComplete() throws Exception {
        DeviceImpl target = listener(SecureSetup.DEFAULT_COOKIE_FREE_PER_SECOND);
        InetSocketAddress to = target.localEndpoints().get(0).toSocketAddress();
        int flood = 6000;
        AtomicInteger floodSent = new AtomicInteger();
        long started = System.nanoTime();
        Thread attacker = new Thread(() -> {
            List<DatagramSocket> sources = new ArrayList<>();
            try {
                for (int i = 2; i < 22; i++) {
                    sources.add(new DatagramSocket(new InetSocketAddress(InetAddress.getByName("127.0.0." + i), 0)));
                }
                Random random = new Random(7);
                byte[] ephemeral = new byte[32];
                for (int i = 0; i < flood; i++) {
                    random.nextBytes(ephemeral);
                    ByteBuffer init = SetupPacket.handshake(SetupPacket.HS_INIT, 0, random.nextLong() | 1, ephemeral);
                    sources.get(i % sources.size()).send(new DatagramPacket(init.array(), init.remaining(), to));
                    floodSent.incrementAndGet();
                    if (i % 8 == 0) {
                        Thread.sleep(1); // stay below the socket buffer: the bound is the listener's, not the kernel's
                    }
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            } finally {
                sources.forEach(DatagramSocket::close);
            }
        }, "spoofed-flood");
        attacker.start();
        while (floodSent.get() < 500) {
            Thread.sleep(5);
        }
        // Genuine dialers during the flood: each gets a cookie, echoes it, and links.
        List<CompletableFuture<PeerLink>> genuine = new ArrayList<>();
        List<DeviceId> dialers = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            Device d = dialer();
            dialers.add(d.id());
            genuine.add(d.connect(target.localEndpoints().get(0), target.id()).toCompletableFuture());
        }
        for (CompletableFuture<PeerLink> f : genuine) {
            assertEquals(target.id(), f.get(30, TimeUnit.SECONDS).peer());
        }
        attacker.join(TimeUnit.SECONDS.toMillis(60));
        double floodSeconds = (System.nanoTime() - started) / 1e9;
        assertEquals(flood, floodSent.get());
        // Drain: the listener answers what is still queued.
        long[] counters = target.cookieCounters().get(5, TimeUnit.SECONDS);
        for (int i = 0; i < 50; i++) {
            Thread.sleep(40);
            long[] now = target.cookieCounters().get(5, TimeUnit.SECONDS);
            if (Arrays.equals(now, counters)) {
                break;
            }
            counters = now;
        }
        int pending = target.pendingRequests().get(5, TimeUnit.SECONDS);
        // Without a cookie, at most the cookie-free allowance was admitted: a burst of 10 and 10 per
        // second while the flood lasted. Everything else got a cookie and left no state.
        long allowance = 10 + (long) Math.ceil(10 * floodSeconds);
        assertTrue(pending <= allowance, pending + " requests held after a flood of " + flood + " in "
                + floodSeconds + " s; allowance " + allowance);
        assertTrue(counters[0] >= flood - allowance, "cookies sent: " + counters[0] + " for a flood of " + flood);
        assertTrue(counters[1] >= 1 && counters[1] <= dialers.size() * 4L,
                "echoed cookies accepted: " + counters[1] + " (only genuine dialers receive cookies)");
    }

    @Test
    void aCookieCountsOnlyFromTheAddressItWasIssuedTo() throws Exception {
        // One request without a cookie, then (practically) none: deterministic load.
        DeviceImpl target = listener(1e-6);
        InetSocketAddress to = target.localEndpoints().get(0).toSocketAddress();
        try (DatagramSocket a = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
             DatagramSocket b = new DatagramSocket(new InetSocketAddress("127.0.0.2", 0))) {
            a.setSoTimeout(500);
            b.setSoTimeout(500);
            Random random = new Random(3);
            // Put the listener under load: more new requests than it answers without a cookie.
            byte[] cookie = null;
            long cid = 0;
            byte[] message1 = new byte[32];
            for (int i = 0; i < 40 && cookie == null; i++) {
                cid = random.nextLong() | 1;
                random.nextBytes(message1);
                send(a, to, SetupPacket.handshake(SetupPacket.HS_INIT, 0, cid, message1));
                cookie = awaitCookie(a, cid);
            }
            assertTrue(cookie != null, "a listener under load answers with a cookie");
            // Echoed from another address: not accepted, another cookie (for b) comes back instead.
            send(b, to, SetupPacket.handshakeWithCookie(cid, cookie, message1));
            byte[] forB = awaitCookie(b, cid);
            assertTrue(forB != null, "the echo from another address was not accepted");
            // A forged cookie: likewise.
            byte[] forged = cookie.clone();
            forged[10] ^= 1;
            send(a, to, SetupPacket.handshakeWithCookie(cid, forged, message1));
            assertTrue(awaitCookie(a, cid) != null, "a forged cookie was not accepted");
            long[] before = target.cookieCounters().get(5, TimeUnit.SECONDS);
            assertEquals(0, before[1], "no cookie accepted yet");
            // Echoed from where it was sent: accepted (message 2 is the answer).
            send(a, to, SetupPacket.handshakeWithCookie(cid, cookie, message1));
            long[] after = waitForAccepted(target, 1);
            assertEquals(1, after[1]);
            DatagramPacket in = new DatagramPacket(new byte[2048], 2048);
            boolean response = false;
            try {
                while (!response) {
                    a.receive(in);
                    response = (in.getData()[0] & 0xff) == SetupPacket.HS_RESP;
                }
            } catch (SocketTimeoutException e) {
                // fall through to the assertion
            }
            assertTrue(response, "an accepted cookie gets handshake message 2");
        }
    }

    private static long[] waitForAccepted(DeviceImpl target, long accepted) throws Exception {
        long[] c = target.cookieCounters().get(5, TimeUnit.SECONDS);
        for (int i = 0; i < 100 && c[1] < accepted; i++) {
            Thread.sleep(20);
            c = target.cookieCounters().get(5, TimeUnit.SECONDS);
        }
        return c;
    }

    private static void send(DatagramSocket s, InetSocketAddress to, ByteBuffer packet) throws Exception {
        s.send(new DatagramPacket(packet.array(), packet.remaining(), to));
    }

    /** @return the cookie in the next HS_COOKIE for cid, or null if message 2 or nothing came */
    private static byte[] awaitCookie(DatagramSocket s, long cid) throws Exception {
        DatagramPacket in = new DatagramPacket(new byte[2048], 2048);
        try {
            while (true) {
                s.receive(in);
                ByteBuffer b = ByteBuffer.wrap(in.getData(), 0, in.getLength());
                if ((in.getData()[0] & 0xff) == SetupPacket.HS_COOKIE) {
                    SetupPacket.Cookie c = SetupPacket.readCookie(b);
                    if (c.clientCid() == cid) {
                        assertEquals(SetupPacket.COOKIE_LENGTH, c.cookie().length);
                        return c.cookie();
                    }
                } else if ((in.getData()[0] & 0xff) == SetupPacket.HS_RESP
                        && SetupPacket.readHandshake(b).destinationCid() == cid) {
                    return null;
                }
            }
        } catch (SocketTimeoutException e) {
            return null;
        }
    }

    @Test
    void cookieWireFormatRoundTrips() throws Exception {
        byte[] cookie = new byte[SetupPacket.COOKIE_LENGTH];
        new Random(1).nextBytes(cookie);
        SetupPacket.Cookie c = SetupPacket.readCookie(SetupPacket.cookie(42, cookie));
        assertEquals(42, c.clientCid());
        assertArrayEquals(cookie, c.cookie());
        byte[] m = new byte[32];
        SetupPacket.Handshake h = SetupPacket.readHandshake(SetupPacket.handshakeWithCookie(7, cookie, m));
        assertEquals(SetupPacket.HS_INIT, h.type());
        assertEquals(0, h.destinationCid());
        assertEquals(7, h.sourceCid());
        assertArrayEquals(cookie, h.cookie());
        assertArrayEquals(m, h.message());
    }
}
