package io.peerlink.cli;

import io.peerlink.server.ReferenceServer;
import io.peerlink.server.ServerConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/** {@code peerlink server}: runs the reference server until interrupted. */
@Command(name = "server", description = "Run the reference server (rendezvous over WebSocket, STUN).")
final class ServerCommand implements Callable<Integer> {

    @Option(names = "--host", description = "Bind address. Default: ${DEFAULT-VALUE}", defaultValue = "0.0.0.0")
    String host;

    @Option(names = "--http-port", description = "HTTP/WebSocket port. Default: ${DEFAULT-VALUE}", defaultValue = "8080")
    int httpPort;

    @Option(names = "--stun-port", description = "STUN UDP port. Default: ${DEFAULT-VALUE}", defaultValue = "3478")
    int stunPort;

    @Option(names = "--allow-list", description = "Allow-list file: lines 'deviceId [network]'")
    Path allowList;

    @Option(names = "--open", description = "Admit every device (demos only; logs a loud warning)")
    boolean open;

    @Override
    public Integer call() throws Exception {
        ServerConfig.Builder b = ServerConfig.builder().bindHost(host).httpPort(httpPort).stunPort(stunPort);
        if (allowList != null) {
            b.allowListFile(allowList);
        }
        if (open) {
            b.open(true);
        }
        CountDownLatch stop = new CountDownLatch(1);
        try (ReferenceServer server = ReferenceServer.start(b.build())) {
            Runtime.getRuntime().addShutdownHook(new Thread(stop::countDown));
            System.out.println("server " + server.controlUri() + " stun " + server.stunAddress());
            System.out.flush();
            stop.await();
        }
        return 0;
    }
}
