package io.peerlink.relay.turn;

import io.peerlink.testkit.Coturn;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/**
 * coturn's own test client, {@code turnutils_uclient}, against our embedded server: it
 * allocates relays with REST-API credentials derived from the shared secret ({@code -W}),
 * binds channels or uses Send indications, and relays messages client to client ({@code -y}).
 */
class UclientInteropTest {
    private String secret;
    private TurnServer server;

    @BeforeEach
    void start() throws IOException {
        secret = TurnServerTest.randomSecret();
        server = TurnServer.start(TurnServerConfig.builder(secret).realm("embedded.test").allowLoopbackPeers(true).build());
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private String run(String... flags) throws IOException, InterruptedException {
        String binary = Coturn.binaryOrSkip("turnutils_uclient");
        List<String> cmd = new ArrayList<>(List.of(binary));
        cmd.addAll(List.of(flags));
        cmd.addAll(List.of("-W", secret, "-u", "uclient", "-n", "20", "-l", "1200", "-m", "2", "-c", "-y",
                "-p", String.valueOf(server.udpAddress().getPort()), "127.0.0.1"));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "turnutils_uclient did not finish");
        String output = new String(out);
        assertEquals(0, p.exitValue(), output);
        return output;
    }

    private static void assertAllDelivered(String output) {
        // The summary line (without msz=) totals every client.
        Matcher total = Pattern.compile("start_mclient: tot_send_msgs=(\\d+), tot_recv_msgs=(\\d+)").matcher(output);
        assertTrue(total.find(), output);
        int s = Integer.parseInt(total.group(1));
        assertEquals(40, s, output);
        assertEquals(s, Integer.parseInt(total.group(2)), output);
        assertTrue(output.contains("Total lost packets 0 (0.000000%)"), output);
    }

    @Test
    void uclientRelaysThroughChannelsOverUdp() throws Exception {
        assertAllDelivered(run());
    }

    @Test
    void uclientRelaysWithSendIndicationsOverUdp() throws Exception {
        assertAllDelivered(run("-s"));
    }

    @Test
    void uclientRelaysOverTcp() throws Exception {
        assertAllDelivered(run("-t"));
    }
}
