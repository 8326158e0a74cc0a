package io.peerlink.cli;

import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.net.URI;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which HTTP proxy a device command uses for its rendezvous: {@code --proxy}, else HTTPS_PROXY / HTTP_PROXY unless NO_PROXY. */
class DeviceOptionsProxyTest {
    private static final URI WS = URI.create("ws://rv.example.net:8080/peerlink/v1");
    private static final URI WSS = URI.create("wss://rv.example.net/peerlink/v1");

    @Test
    void theFlagWinsOverTheEnvironment() {
        InetSocketAddress p = DeviceOptions.proxyFor(WS, "127.0.0.1:3128", Map.of("HTTP_PROXY", "http://127.0.0.2:8888")).address();
        assertEquals(new InetSocketAddress("127.0.0.1", 3128), p);
        assertNull(DeviceOptions.proxyFor(WS, "none", Map.of("HTTP_PROXY", "http://127.0.0.2:8888")));
    }

    @Test
    void theEnvironmentByScheme() {
        Map<String, String> env = Map.of("HTTP_PROXY", "http://127.0.0.2:8888/", "https_proxy", "127.0.0.3:3128");
        assertEquals(new InetSocketAddress("127.0.0.2", 8888), DeviceOptions.proxyFor(WS, null, env).address());
        assertEquals(new InetSocketAddress("127.0.0.3", 3128), DeviceOptions.proxyFor(WSS, null, env).address());
        assertNull(DeviceOptions.proxyFor(WSS, null, Map.of("HTTP_PROXY", "127.0.0.2:8888")), "HTTP_PROXY is not for wss://");
        assertNull(DeviceOptions.proxyFor(WS, null, Map.of()));
    }

    @Test
    void noProxyExemptsTheServerHost() {
        assertNull(DeviceOptions.proxyFor(WS, null, Map.of("HTTP_PROXY", "127.0.0.2:8888", "NO_PROXY", "localhost,.example.net")));
        assertNull(DeviceOptions.proxyFor(WS, null, Map.of("HTTP_PROXY", "127.0.0.2:8888", "no_proxy", "rv.example.net")));
        assertNull(DeviceOptions.proxyFor(WS, null, Map.of("HTTP_PROXY", "127.0.0.2:8888", "NO_PROXY", "*")));
        assertEquals(new InetSocketAddress("127.0.0.2", 8888),
                DeviceOptions.proxyFor(WS, null, Map.of("HTTP_PROXY", "127.0.0.2:8888", "NO_PROXY", "other.net,xample.net")).address());
    }

    @Test
    void credentialsInTheUriAreBasicAuthAndPercentDecoded() {
        DeviceOptions.ProxyChoice p = DeviceOptions.proxyFor(WSS, null, Map.of("HTTPS_PROXY", "http://bob:p%40ss%3Aw0rd+@127.0.0.3:3128/"));
        assertEquals(new InetSocketAddress("127.0.0.3", 3128), p.address());
        assertEquals("bob", p.user());
        assertEquals("p@ss:w0rd+", new String(p.password()));
        assertFalse(p.toString().contains("p@ss"), p.toString());
        DeviceOptions.ProxyChoice flag = DeviceOptions.proxyFor(WS, "alice:pw@127.0.0.1:3128", Map.of());
        assertEquals("alice", flag.user());
        assertNull(DeviceOptions.proxyFor(WS, "127.0.0.1:3128", Map.of()).user());
    }

    @Test
    void socks5FromTheFlagOrAllProxy() {
        DeviceOptions.ProxyChoice flag = DeviceOptions.proxyFor(WSS, "socks5://carol:pw@127.0.0.4:1080", Map.of());
        assertTrue(flag.socks());
        assertEquals(new InetSocketAddress("127.0.0.4", 1080), flag.address());
        assertEquals("carol", flag.user());
        DeviceOptions.ProxyChoice all = DeviceOptions.proxyFor(WS, null, Map.of("ALL_PROXY", "socks5h://127.0.0.5:1080"));
        assertTrue(all.socks());
        assertNull(all.user());
        assertFalse(DeviceOptions.proxyFor(WS, null, Map.of("ALL_PROXY", "socks5h://127.0.0.5:1080", "HTTP_PROXY", "127.0.0.2:8888"))
                .socks(), "HTTP_PROXY before ALL_PROXY");
        assertNull(DeviceOptions.proxyFor(WS, null, Map.of("all_proxy", "socks5://127.0.0.5:1080", "NO_PROXY", "*")));
    }

    @Test
    void badValuesSayWhatIsWrongInOneLine() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> DeviceOptions.proxyFor(WS, "127.0.0.1", Map.of()))
                .getMessage().equals("--proxy=127.0.0.1: expected host:port"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> DeviceOptions.proxyFor(WS, "127.0.0.1:99999", Map.of()))
                .getMessage().contains("1..65535"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> DeviceOptions.proxyFor(WS, null, Map.of("HTTP_PROXY", "socks4://127.0.0.1:1080"))).getMessage()
                .startsWith("$HTTP_PROXY=socks4://127.0.0.1:1080: only an HTTP proxy"));
        String noPassword = assertThrows(IllegalArgumentException.class,
                () -> DeviceOptions.proxyFor(WS, "http://bob@127.0.0.1:3128", Map.of())).getMessage();
        assertEquals("--proxy=http://bob@127.0.0.1:3128: proxy credentials must be user:password@ (both given)", noPassword);
        String socks = assertThrows(IllegalArgumentException.class,
                () -> DeviceOptions.proxyFor(WS, null, Map.of("HTTPS_PROXY", "x", "HTTP_PROXY", "socks4://bob:s3cret@127.0.0.1:1080")))
                .getMessage();
        assertTrue(socks.startsWith("$HTTP_PROXY=socks4://bob:***@127.0.0.1:1080: "), socks);
        String badPort = assertThrows(IllegalArgumentException.class,
                () -> DeviceOptions.proxyFor(WS, "http://bob:s3cret@127.0.0.1:x", Map.of())).getMessage();
        assertEquals("--proxy=http://bob:***@127.0.0.1:x: the port is not a number", badPort);
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> DeviceOptions.proxyFor(URI.create("mqtt://broker:1883"), "127.0.0.1:3128", Map.of())).getMessage()
                .contains("ws:// and wss://"));
        assertNull(DeviceOptions.proxyFor(URI.create("mqtt://broker:1883"), null, Map.of("HTTP_PROXY", "127.0.0.1:3128")));
    }
}
