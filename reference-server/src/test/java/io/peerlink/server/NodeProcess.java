package io.peerlink.server;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A reference-server node in its own JVM, so a test can kill it as a crash would (SIGKILL: no
 * draining, no clean-up in Redis). Prints {@code node <controlUri>} once started. Arguments:
 * Redis URI, key prefix, allow-list file, keepalive in milliseconds.
 */
public final class NodeProcess {
    private NodeProcess() {
    }

    /**
     * @param args Redis URI, key prefix, allow-list file, keepalive ms
     * @throws Exception if the node cannot start
     */
    public static void main(String[] args) throws Exception {
        ReferenceServer server = ReferenceServer.start(ServerConfig.builder().bindHost("127.0.0.1").httpPort(0).stunPort(-1)
                .coapPort(-1).allowListFile(Path.of(args[2])).keepalive(Duration.ofMillis(Long.parseLong(args[3])))
                .redis(new ServerConfig.Redis(java.net.URI.create(args[0]), args[1])).build());
        System.out.println("node " + server.controlUri());
        System.out.flush();
        Thread.sleep(TimeUnit.MINUTES.toMillis(2));   // bounded: the test kills it long before
        server.close();
    }
}
