package io.peerlink.server;

import io.peerlink.Device;
import io.peerlink.PeerLinks;

import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A device in its own JVM, so a test can kill it as a crash would (SIGKILL: no CLOSE frames, the
 * control connection just drops). Accepts every incoming link and keeps it; prints "ready" once
 * registered, then "linked" for each link. Arguments: key file, control URI, STUN host, STUN port.
 */
public final class PeerProcess {
    private PeerProcess() {
    }

    /**
     * @param args key file, control URI, STUN host, STUN port
     * @throws Exception if the device cannot start
     */
    public static void main(String[] args) throws Exception {
        List<Object> keep = new ArrayList<>();
        Device d = PeerLinks.device().identity(Path.of(args[0])).rendezvous(URI.create(args[1]))
                .stunServer(new InetSocketAddress(args[2], Integer.parseInt(args[3])))
                .udp(new InetSocketAddress("127.0.0.1", 0)).build();
        d.onIncoming(request -> request.accept().thenAccept(link -> {
            synchronized (keep) {
                keep.add(link);
            }
            System.out.println("linked");
            System.out.flush();
        }));
        d.rendezvous().registered().toCompletableFuture().get(10, TimeUnit.SECONDS);
        System.out.println("ready");
        System.out.flush();
        Thread.sleep(TimeUnit.MINUTES.toMillis(2));   // bounded: the test kills it long before
        d.abort();
    }
}
