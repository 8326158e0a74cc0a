package io.peerlink.cli;

import io.peerlink.Device;
import io.peerlink.PeerLinks;
import picocli.CommandLine.Option;

import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;

/** Options every device command shares. */
final class DeviceOptions {
    @Option(names = {"-k", "--key"}, description = "Ed25519 key file; created (mode 600) if missing. Default: ${DEFAULT-VALUE}",
            defaultValue = "device.key")
    Path key;

    @Option(names = {"-s", "--server"}, description = "Rendezvous control URI, e.g. ws://192.0.2.1:8080/peerlink/v1")
    URI server;

    @Option(names = "--pin", description = "wss:// only: the server key pin (sha256/...) that 'peerlink server' prints")
    String pin;

    @Option(names = "--stun", description = "STUN server host:port (default: the rendezvous host, port 3478)")
    String stun;

    @Option(names = {"-b", "--bind"}, description = "UDP bind address host:port. Default: ${DEFAULT-VALUE}", defaultValue = "0.0.0.0:0")
    String bind;

    @Option(names = "--opener-ttl", description = "TTL of hole-punch openers; 0 = derive from hops to STUN (default)", defaultValue = "0")
    int openerTtl;

    @Option(names = "--no-host-candidates", description = "Do not publish private (LAN) addresses; public paths only")
    boolean noHostCandidates;

    @Option(names = "--linger", description = "Keep the link open this many ms after the command's work, so better paths "
            + "racing in the background can take over (printed as path-changed). Default: ${DEFAULT-VALUE}", defaultValue = "0")
    long lingerMillis;

    @Option(names = "--until-direct", description = "End --linger early, 1 s after the link runs on a direct path "
            + "(nothing better can take over; the second lets the peer follow the move)")
    boolean untilDirect;

    @Option(names = "--timeout", description = "Connect timeout in seconds. Default: ${DEFAULT-VALUE}", defaultValue = "10")
    int timeoutSeconds;

    Device build() {
        Device.Builder b = PeerLinks.device().identity(key).udp(parse(bind, 0))
                .connectTimeout(Duration.ofSeconds(timeoutSeconds)).openerTtl(openerTtl).hostCandidates(!noHostCandidates);
        if (server != null) {
            b.rendezvous(server);
        }
        if (pin != null) {
            b.rendezvousPin(pin);
        }
        if (stun != null) {
            b.stunServer(parse(stun, 3478));
        }
        return b.build();
    }

    static InetSocketAddress parse(String hostPort, int defaultPort) {
        int colon = hostPort.lastIndexOf(':');
        if (colon < 0) {
            return new InetSocketAddress(hostPort, defaultPort);
        }
        String host = hostPort.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        return new InetSocketAddress(host.isEmpty() ? "0.0.0.0" : host, Integer.parseInt(hostPort.substring(colon + 1)));
    }
}
