package io.peerlink.core.internal.device;

import io.peerlink.Device;
import io.peerlink.Endpoint;
import io.peerlink.LinkEvent;
import io.peerlink.PathInfo;
import io.peerlink.PathState;
import io.peerlink.PeerLink;
import io.peerlink.PeerLinks;
import io.peerlink.core.internal.link.SetupPacket;
import io.peerlink.core.internal.session.Session;
import io.peerlink.testkit.NumberedTransfer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The "no path validation" attack of issue 6, performed: packets of a live link re-sent with the
 * source address of a victim, and a forged NOMINATE from the victim's address, must not redirect
 * the link; the victim receives at most three times what was sent in its name, and the transfer
 * goes on intact.
 */
class PathSpoofingTest {
    private static final InetSocketAddress LOOPBACK = new InetSocketAddress("127.0.0.1", 0);
    private final List<Device> devices = new ArrayList<>();

    @AfterEach
    void closeDevices() {
        devices.forEach(Device::close);
    }

    /** A host that never answers and counts what reaches it. */
    private static final class Victim implements AutoCloseable {
        final DatagramSocket socket = new DatagramSocket(LOOPBACK);
        final AtomicLong bytesReceived = new AtomicLong();
        final AtomicInteger datagramsReceived = new AtomicInteger();
        final AtomicLong bytesSentInItsName = new AtomicLong();

        Victim() throws IOException {
            Thread t = new Thread(() -> {
                byte[] buf = new byte[65536];
                DatagramPacket p = new DatagramPacket(buf, buf.length);
                while (!socket.isClosed()) {
                    try {
                        p.setLength(buf.length);
                        socket.receive(p);
                        bytesReceived.addAndGet(p.getLength());
                        datagramsReceived.incrementAndGet();
                    } catch (IOException e) {
                        return;
                    }
                }
            }, "victim");
            t.setDaemon(true);
            t.start();
        }

        /** The attacker sends with the victim's source address (here: from the victim's own port). */
        void spoof(byte[] datagram, InetSocketAddress to) {
            try {
                socket.send(new DatagramPacket(datagram, datagram.length, to));
                bytesSentInItsName.addAndGet(datagram.length);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }

        Endpoint endpoint() {
            return Endpoint.udp((InetSocketAddress) socket.getLocalSocketAddress());
        }

        @Override
        public void close() {
            socket.close();
        }
    }

    @Test
    void spoofedSourcePacketsAndNominateCannotRedirectALink() throws Exception {
        Device a = PeerLinks.device().ephemeralIdentity().udp(LOOPBACK).build();
        Device b = PeerLinks.device().ephemeralIdentity().udp(LOOPBACK).build();
        devices.add(a);
        devices.add(b);
        InetSocketAddress bAddress = b.localEndpoints().get(0).toSocketAddress();
        try (UdpProxy path = new UdpProxy(bAddress); Victim victim = new Victim()) {
            CompletableFuture<PeerLink> accepted = new CompletableFuture<>();
            b.onIncoming(req -> req.accept().thenAccept(accepted::complete));
            PeerLink atA = a.connect(Endpoint.udp(path.front())).toCompletableFuture().get(5, TimeUnit.SECONDS);
            PeerLink atB = accepted.get(5, TimeUnit.SECONDS);
            PathInfo original = atB.path();
            List<LinkEvent> eventsAtB = new CopyOnWriteArrayList<>();
            atB.addListener(eventsAtB::add);

            // B sends bulk data; A's packets to B (mostly small ACKs) cross the proxy, where the
            // attacker steals some and re-sends them from the victim's address, racing the original.
            NumberedTransfer transfer = new NumberedTransfer(400, 16 << 10, 1);
            transfer.receiveOn(atA.channel());
            CompletableFuture<Void> sending = transfer.sendOn(atB.channel());
            assertTrue(transfer.after(100).await(20, TimeUnit.SECONDS), "transfer under way");
            AtomicInteger stolen = new AtomicInteger();
            path.divert(d -> (d[0] & 0xF0) == 0x40 && stolen.getAndIncrement() < 20, d -> victim.spoof(d, bAddress));

            // And a forged NOMINATE for B's side of the link, from the victim's address.
            long bCid = ((PeerLinkImpl) atB).engine().localConnectionId();
            javax.crypto.Mac guessedKey = javax.crypto.Mac.getInstance("HmacSHA256");
            guessedKey.init(new javax.crypto.spec.SecretKeySpec(new byte[32], "HmacSHA256"));
            for (int i = 0; i < 5; i++) {
                ByteBuffer nominate = ByteBuffer.allocate(64);
                SetupPacket.writeProbe(nominate, bCid, i, SetupPacket.FLAG_NOMINATE, 42, guessedKey);
                victim.spoof(java.util.Arrays.copyOf(nominate.array(), nominate.position()), bAddress);
            }

            sending.get(30, TimeUnit.SECONDS);
            transfer.awaitIntact(30);
            assertTrue(stolen.get() >= 20, "the attacker re-sent " + stolen.get() + " packets");

            assertEquals(original, atB.path(), "B still sends on the path set-up validated");
            assertTrue(eventsAtB.stream().noneMatch(e -> e instanceof LinkEvent.PathChanged), eventsAtB.toString());
            PathInfo spoofed = atB.paths().stream().filter(p -> p.remote().equals(victim.endpoint())).findFirst().orElseThrow();
            assertTrue(spoofed.state() == PathState.PROBING || spoofed.state() == PathState.FAILED, spoofed.toString());
            // Let any retried challenge go out, then check the amplification bound.
            Thread.sleep(500);
            assertTrue(victim.bytesReceived.get() <= Session.AMPLIFICATION_LIMIT * victim.bytesSentInItsName.get(),
                    "victim got " + victim.bytesReceived.get() + " bytes for " + victim.bytesSentInItsName.get() + " sent in its name");
        }
    }
}
