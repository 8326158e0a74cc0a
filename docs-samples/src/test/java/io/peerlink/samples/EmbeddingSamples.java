package io.peerlink.samples;

import io.peerlink.CloseReason;
import io.peerlink.Device;
import io.peerlink.DeviceId;
import io.peerlink.Endpoint;
import io.peerlink.PeerLink;
import io.peerlink.PeerLinks;
import io.peerlink.UnreachableException;
import io.peerlink.server.ReferenceServer;
import io.peerlink.server.ServerConfig;

import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * The code samples of README.md and docs/embedding.md. Each region between a "sample: NAME" and
 * an "end sample" comment is quoted verbatim (minus its indentation) in the documents, in a
 * {@code java} block after an HTML comment naming it; {@link DocsMatchSamplesTest} fails if they
 * differ, and {@link EmbeddingSamplesTest} runs them.
 */
final class EmbeddingSamples {
    /** Messages the receiver got, in order. */
    final List<String> received = new CopyOnWriteArrayList<>();
    private final InetSocketAddress stun;

    /** @param stun the reference server's STUN address (tests bind it to a free port) */
    EmbeddingSamples(InetSocketAddress stun) {
        this.stun = stun;
    }

    /** The application's message handling in the samples. */
    private void handle(ByteBuffer message) {
        received.add(StandardCharsets.UTF_8.decode(message).toString());
    }

    CloseReason receiver(Path keyFile, URI server) throws Exception {
        // sample: receiver
        try (Device device = PeerLinks.device()
                .identity(keyFile)                                  // Ed25519; created 0600 on first use
                .rendezvous(server)                                 // e.g. ws://198.51.100.1:8080/peerlink/v1
                .stunServer(stun)                                   // default: the server's host, port 3478
                .udp(new InetSocketAddress(0))
                .build()) {
            CompletableFuture<CloseReason> done = new CompletableFuture<>();
            device.onIncoming(request -> request.accept().thenAccept(link -> {
                // Keep the link: its channel is how messages arrive. Handlers run on the device's
                // callback executor, one message at a time and in order.
                link.channel().onMessage((message, delivery) -> handle(message));
                link.channel().closed().thenAccept(done::complete); // after the last message
            }));
            CloseReason reason = done.get(60, TimeUnit.SECONDS);     // the sender closes the link
            System.out.println("link closed: " + reason);            // "code 0 by peer" = all delivered
            return reason;
        }
        // end sample
    }

    void sender(Path keyFile, URI server, DeviceId peer, List<String> messages) throws Exception {
        // sample: sender
        try (Device device = PeerLinks.device()
                .identity(keyFile)
                .rendezvous(server)
                .stunServer(stun)
                .udp(new InetSocketAddress(0))
                .build()) {
            PeerLink link = device.connect(peer).toCompletableFuture().get(30, TimeUnit.SECONDS);
            System.out.println(link.path());                         // e.g. DIRECT_PRIVATE udp://... -> udp://...
            for (String m : messages) {
                // Returns at once; the stage completes when the peer has acknowledged the message.
                link.channel().send(ByteBuffer.wrap(m.getBytes(StandardCharsets.UTF_8)));
            }
        } // close(): delivers everything sent, then closes (at most closeTimeout, 10 s, + 1 s)
        // end sample
    }

    /** @return a device whose UDP transport got its options by name */
    Device transportOptions(Path keyFile) {
        // sample: transport-options
        Device device = PeerLinks.device()
                .identity(keyFile)
                .transport(Endpoint.parse("udp://0.0.0.0:0"), Map.of(
                        "udp.receiveBufferSize", "8388608",   // text, converted to the option's type
                        "udp.ttlControl", true))              // or a value of the option's type
                .build();                                     // an unknown name or a bad value fails here
        // end sample
        return device;
    }

    UnreachableException.Reason failure(Path keyFile, URI server, DeviceId peer) throws Exception {
        try (Device device = PeerLinks.device().identity(keyFile).rendezvous(server).stunServer(stun)
                .udp(new InetSocketAddress(0)).build()) {
            // sample: failure
            try {
                PeerLink link = device.connect(peer).toCompletableFuture().get(30, TimeUnit.SECONDS);
                link.close();
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof UnreachableException u)) {
                    throw e;
                }
                // reason(): OFFLINE, DENIED, UNKNOWN, REJECTED, NO_PATH, TIMEOUT or NO_RENDEZVOUS;
                // getCause(), if any, what failed underneath (e.g. "connection refused to ws://...").
                System.out.println("cannot reach " + peer + ": " + u.reason()
                        + (u.getCause() == null ? "" : " because " + u.getCause().getMessage()));
                return u.reason();
            }
            // end sample
            return null;
        }
    }

    /** Hosts a reference server in the application: settings from a map, as a plug-in would get them. */
    static ReferenceServer hostServer(Path allowList) {
        // sample: hosting
        ServerConfig config = ServerConfig.builder()
                .bindHost("127.0.0.1").httpPort(0).stunPort(0).coapPort(-1)   // 0 = any free port, -1 = off
                .settings(Map.of("authenticator.allow-list.file", allowList.toString()))
                .build();
        ReferenceServer server = ReferenceServer.start(config);
        URI control = server.controlUri();             // ws://127.0.0.1:<port>/peerlink/v1
        List<String> endpoints = server.endpoints();   // [operations, rendezvous] + registered endpoint beans
        // end sample
        assert control != null && !endpoints.isEmpty();
        return server;
    }
}
