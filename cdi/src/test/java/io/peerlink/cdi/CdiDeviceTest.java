package io.peerlink.cdi;

import io.peerlink.Device;
import io.peerlink.DeviceId;
import io.peerlink.IncomingRequest;
import io.peerlink.LinkEvent;
import io.peerlink.PeerLink;
import io.peerlink.PeerLinks;
import io.peerlink.UnreachableException;
import io.peerlink.server.ReferenceServer;
import io.peerlink.server.ServerConfig;
import io.peerlink.testkit.Mosquitto;
import io.peerlink.testkit.MosquittoAcl;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.Dependent;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Alternative;
import jakarta.enterprise.inject.Produces;
import jakarta.enterprise.inject.spi.DeploymentException;
import jakarta.enterprise.inject.spi.Extension;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import org.jboss.weld.environment.se.Weld;
import org.jboss.weld.environment.se.WeldContainer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A Weld SE application with {@code @Inject Device}, configured by system properties, linking
 * through a real reference server with a second, plain-Java device.
 */
class CdiDeviceTest {
    private static final List<String> KEYS = List.of(DeviceSettings.CONFIG_FILE, DeviceSettings.IDENTITY,
            DeviceSettings.RENDEZVOUS, DeviceSettings.UDP, DeviceSettings.STUN, DeviceSettings.CONNECT_TIMEOUT);
    @TempDir
    Path dir;
    private final List<AutoCloseable> toClose = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
        KEYS.forEach(System::clearProperty);
    }

    /** The application: injects the device and uses it. */
    @ApplicationScoped
    static class App {
        @Inject
        Device device;

        /** A method, not the field: the test holds a client proxy, whose fields are not the bean's. */
        Device device() {
            return device;
        }

        PeerLink connect(DeviceId peer) throws Exception {
            return device.connect(peer).toCompletableFuture().get(15, TimeUnit.SECONDS);
        }
    }

    /**
     * Observes the device's incoming requests and link events; accepts only when told to. A
     * singleton (no client proxy), so the test reads its fields directly.
     */
    @Singleton
    static class Observers {
        final BlockingQueue<DeviceId> requests = new LinkedBlockingQueue<>();
        final BlockingQueue<String> received = new LinkedBlockingQueue<>();
        final BlockingQueue<PeerLinkEvent> peerLinkEvents = new LinkedBlockingQueue<>();
        final BlockingQueue<LinkEvent> linkEvents = new LinkedBlockingQueue<>();
        volatile boolean accept;
        volatile boolean fail;

        void onRequest(@Observes IncomingRequest request) {
            requests.add(request.from());
            if (fail) {
                throw new IllegalStateException("observer failure on purpose");
            }
            if (accept) {
                // Echo every message back in upper case.
                request.accept().thenAccept(link -> link.channel().onMessage((message, how) -> {
                    String text = StandardCharsets.UTF_8.decode(message).toString();
                    received.add(text);
                    link.channel().send(ByteBuffer.wrap(text.toUpperCase().getBytes(StandardCharsets.UTF_8)));
                }));
            }
        }

        void onPeerLinkEvent(@Observes PeerLinkEvent event) {
            peerLinkEvents.add(event);
        }

        void onLinkEvent(@Observes LinkEvent event) {
            linkEvents.add(event);
        }
    }

    private ReferenceServer server(DeviceId... allowed) throws Exception {
        StringBuilder list = new StringBuilder();
        for (DeviceId id : allowed) {
            list.append(id).append(" home\n");
        }
        Path file = dir.resolve("allow-list");
        Files.writeString(file, list);
        ReferenceServer server = ReferenceServer.start(ServerConfig.builder().bindHost("127.0.0.1").httpPort(0)
                .stunPort(0).coapPort(-1).allowListFile(file).build());
        toClose.add(server);
        return server;
    }

    /** Creates the key file, so the allow-list can name the device before it first runs. */
    private DeviceId identity(String name) {
        try (Device d = PeerLinks.device().identity(dir.resolve(name + ".key"))
                .udp(new InetSocketAddress("127.0.0.1", 0)).build()) {
            return d.id();
        }
    }

    private Device plainDevice(String name, ReferenceServer server) throws Exception {
        Device d = PeerLinks.device().identity(dir.resolve(name + ".key")).rendezvous(server.controlUri())
                .stunServer(server.stunAddress()).udp(new InetSocketAddress("127.0.0.1", 0))
                .connectTimeout(Duration.ofSeconds(5)).build();
        toClose.add(d);
        d.rendezvous().registered().toCompletableFuture().get(10, TimeUnit.SECONDS);
        return d;
    }

    /** Configures the CDI device through a properties file plus a system property that overrides it. */
    private void configure(String name, ReferenceServer server) throws Exception {
        Path config = dir.resolve(name + ".properties");
        Files.writeString(config, DeviceSettings.IDENTITY + "=" + dir.resolve(name + ".key") + "\n"
                + DeviceSettings.RENDEZVOUS + "=" + server.controlUri() + "\n"
                + DeviceSettings.UDP + "=0.0.0.0:1\n"
                + DeviceSettings.CONNECT_TIMEOUT + "=PT5S\n");
        System.setProperty(DeviceSettings.CONFIG_FILE, config.toString());
        System.setProperty(DeviceSettings.UDP, "127.0.0.1:0");
        System.setProperty(DeviceSettings.STUN, "127.0.0.1:" + server.stunAddress().getPort());
    }

    private WeldContainer container() {
        return toClosed(weld(App.class, Observers.class).initialize());
    }

    /**
     * Discovery off, so the test names its beans; Weld then skips service-loaded extensions, so it
     * is added here, and {@link #theExtensionIsRegisteredAsAService} covers the registration.
     */
    private static Weld weld(Class<?>... beans) {
        return new Weld().disableDiscovery().addBeanClasses(beans).addExtension(new PeerLinkExtension());
    }

    @Test
    void theExtensionIsRegisteredAsAService() {
        assertTrue(ServiceLoader.load(Extension.class).stream().anyMatch(p -> p.type() == PeerLinkExtension.class));
    }

    @Test
    void injectedDeviceLinksBothWaysAndObserversSeeRequestsAndLinkEvents() throws Exception {
        DeviceId appId = identity("app");
        DeviceId peerId = identity("peer");
        ReferenceServer server = server(appId, peerId);
        configure("app", server);
        Device peer = plainDevice("peer", server);

        WeldContainer container = container();
        App app = container.select(App.class).get();
        Observers observers = container.select(Observers.class).get();
        assertEquals(appId, app.device().id(), "the identity comes from the configured key file");
        app.device().rendezvous().registered().toCompletableFuture().get(10, TimeUnit.SECONDS);

        // Incoming: the observer accepts, then echoes.
        observers.accept = true;
        PeerLink toApp = peer.connect(appId).toCompletableFuture().get(15, TimeUnit.SECONDS);
        assertEquals(peerId, observers.requests.poll(10, TimeUnit.SECONDS));
        CompletableFuture<String> echo = new CompletableFuture<>();
        toApp.channel().onMessage((m, how) -> echo.complete(StandardCharsets.UTF_8.decode(m).toString()));
        toApp.channel().send(ByteBuffer.wrap("reading 21.5".getBytes(StandardCharsets.UTF_8)));
        assertEquals("reading 21.5", observers.received.poll(10, TimeUnit.SECONDS));
        assertEquals("READING 21.5", echo.get(10, TimeUnit.SECONDS));

        // The peer closes: the observers see the link close, with the link and without.
        toApp.close();
        PeerLinkEvent closed = observers.peerLinkEvents.poll(10, TimeUnit.SECONDS);
        assertNotNull(closed, "no PeerLinkEvent after the peer closed the link");
        assertEquals(peerId, closed.link().peer());
        assertInstanceOf(LinkEvent.Closed.class, closed.event());
        assertInstanceOf(LinkEvent.Closed.class, observers.linkEvents.poll(10, TimeUnit.SECONDS));

        // Outgoing: the application connects and sends; the plain peer receives.
        BlockingQueue<String> atPeer = new LinkedBlockingQueue<>();
        BlockingQueue<LinkEvent> peerEvents = new LinkedBlockingQueue<>();
        peer.onIncoming(request -> request.accept().thenAccept(link -> {
            link.addListener(peerEvents::add);
            link.channel().onMessage((m, how) -> atPeer.add(StandardCharsets.UTF_8.decode(m).toString()));
        }));
        PeerLink fromApp = app.connect(peerId);
        fromApp.channel().send(ByteBuffer.wrap("hello".getBytes(StandardCharsets.UTF_8)))
                .toCompletableFuture().get(10, TimeUnit.SECONDS);
        assertEquals("hello", atPeer.poll(10, TimeUnit.SECONDS));

        // Container shutdown closes the device: its link closes at the peer, and it leaves the server.
        container.shutdown();
        assertInstanceOf(LinkEvent.Closed.class, peerEvents.poll(10, TimeUnit.SECONDS),
                "the peer's link closes when the container shuts down");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (server.connectedDevices() > 1 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(1, server.connectedDevices(), "the CDI device left the rendezvous server");
        assertTrue(!fromApp.channel().isOpen(), "the application's link closed with the device");
    }

    /**
     * {@code peerlink.rendezvous=mqtt://...}: the injected device registers through a real Mosquitto 2
     * (password file, the documented ACL) with the credentials of its MQTT transport, set by
     * {@code peerlink.transports.1.<option>} keys (the password from a file, {@code mqtt.passwordSource=file:<path>});
     * a WebSocket device connects to it by device ID.
     */
    @Test
    void injectedDeviceUsesTheRendezvousOverMqtt() throws Exception {
        DeviceId appId = identity("app");
        DeviceId peerId = identity("peer");
        java.security.SecureRandom random = new java.security.SecureRandom();
        String appPassword = java.util.HexFormat.of().formatHex(random.generateSeed(16));
        String serverPassword = java.util.HexFormat.of().formatHex(random.generateSeed(16));
        String peerPassword = java.util.HexFormat.of().formatHex(random.generateSeed(16));
        Mosquitto broker = Mosquitto.create().user(appId.value(), appPassword).user(peerId.value(), peerPassword)
                .user("rendezvous", serverPassword)
                .acl(MosquittoAcl.inboxes().rendezvous("rendezvous").build()).start();
        toClose.add(broker);
        String host = "127.0.0.1:" + broker.port();
        Path passwordFile = dir.resolve("rendezvous.password");
        Files.writeString(passwordFile, serverPassword + "\n");
        ReferenceServer server = ReferenceServer.start(ServerConfig.builder().bindHost("127.0.0.1").httpPort(0).stunPort(0)
                .coapPort(-1).open(true).settings(Map.of("mqtt.rendezvous.broker", "mqtt://" + host,
                        "mqtt.rendezvous.username", "rendezvous", "mqtt.rendezvous.password-file", passwordFile.toString()))
                .build());
        toClose.add(server);
        // The peer: the WebSocket rendezvous and UDP, plus an inbox on the broker (the CDI device has nothing else).
        Device peer = PeerLinks.device().identity(dir.resolve("peer.key")).rendezvous(server.controlUri())
                .stunServer(server.stunAddress()).udp(new InetSocketAddress("127.0.0.1", 0))
                .transport(io.peerlink.Endpoint.parse("mqtt://" + host + "/" + peerId.value()), Map.of("mqtt.username", peerId.value(),
                        "mqtt.password", peerPassword, "mqtt.brokerEnforcesSender", "true"))
                .connectTimeout(Duration.ofSeconds(10)).build();
        toClose.add(peer);
        peer.rendezvous().registered().toCompletableFuture().get(10, TimeUnit.SECONDS);

        // The app's broker password stays out of the properties file: mqtt.passwordSource=file:<path>.
        Path appPasswordFile = dir.resolve("app.password");
        Files.writeString(appPasswordFile, appPassword + "\n");
        injectedDeviceOnlyOnTheBroker(host, appId, peer, peerId, Map.of("mqtt.username", appId.value(),
                "mqtt.passwordSource", "file:" + appPasswordFile, "mqtt.brokerEnforcesSender", "true"));
    }

    /**
     * Configures the CDI device with the broker at {@code host} as its only transport and its
     * rendezvous ({@code mqttOptions} as {@code peerlink.transports.1.<option>} keys), starts the
     * container and checks that {@code peer} links to it by device ID over the broker, both ways.
     */
    private void injectedDeviceOnlyOnTheBroker(String host, DeviceId appId, Device peer, DeviceId peerId, Map<String, String> mqttOptions)
            throws Exception {
        StringBuilder properties = new StringBuilder(DeviceSettings.IDENTITY + "=" + dir.resolve("app.key") + "\n"
                + DeviceSettings.RENDEZVOUS + "=mqtt://" + host + "\n"
                + DeviceSettings.TRANSPORTS + "=mqtt://" + host + "/" + appId.value() + "\n"
                + DeviceSettings.CONNECT_TIMEOUT + "=PT10S\n");
        mqttOptions.forEach((k, v) -> properties.append(DeviceSettings.TRANSPORT_OPTION_PREFIX).append("1.").append(k).append('=').append(v).append('\n'));
        Path config = dir.resolve("app.properties");
        Files.writeString(config, properties);
        System.setProperty(DeviceSettings.CONFIG_FILE, config.toString());

        WeldContainer container = container();
        App app = container.select(App.class).get();
        Observers observers = container.select(Observers.class).get();
        app.device().rendezvous().registered().toCompletableFuture().get(15, TimeUnit.SECONDS);
        assertTrue(peer.rendezvous().isOnline(appId).toCompletableFuture().get(10, TimeUnit.SECONDS),
                "the WebSocket device sees the CDI device, registered over the broker, online");

        observers.accept = true;
        PeerLink toApp = peer.connect(appId).toCompletableFuture().get(30, TimeUnit.SECONDS);
        assertEquals(peerId, observers.requests.poll(10, TimeUnit.SECONDS));
        assertEquals(io.peerlink.PathKind.BROKERED, toApp.path().kind(), "the CDI device has only the broker: " + toApp.path());
        CompletableFuture<String> echo = new CompletableFuture<>();
        toApp.channel().onMessage((m, how) -> echo.complete(StandardCharsets.UTF_8.decode(m).toString()));
        toApp.channel().send(ByteBuffer.wrap("over mqtt".getBytes(StandardCharsets.UTF_8)));
        assertEquals("over mqtt", observers.received.poll(10, TimeUnit.SECONDS));
        assertEquals("OVER MQTT", echo.get(10, TimeUnit.SECONDS));
        container.shutdown();
    }

    /**
     * The reference server's embedded broker wants a signed login token per connection: with
     * {@code peerlink.transports.1.mqtt.passwordSource=login-token:<audience> <key file>} the injected
     * device, whose only transport and rendezvous is that broker, registers and is linked to by device
     * ID; the same key with the wrong audience is refused by the broker.
     */
    @Test
    void injectedDeviceLogsInToTheEmbeddedBrokerWithLoginTokens() throws Exception {
        DeviceId appId = identity("app");
        DeviceId peerId = identity("peer");
        ReferenceServer server = ReferenceServer.start(ServerConfig.builder().bindHost("127.0.0.1").httpPort(0).stunPort(0)
                .coapPort(-1).open(true).mqtt(new ServerConfig.Mqtt(0, null, null)).build());
        toClose.add(server);
        String host = "127.0.0.1:" + server.mqttPort();
        String audience = "mqtt://" + host; // the embedded broker's default audience
        Device peer = PeerLinks.device().identity(dir.resolve("peer.key")).rendezvous(server.controlUri())
                .stunServer(server.stunAddress()).udp(new InetSocketAddress("127.0.0.1", 0))
                .transport(io.peerlink.Endpoint.parse("mqtt://" + host + "/" + peerId.value()), Map.of("mqtt.protocolVersion", "MQTT_3_1_1",
                        "mqtt.username", peerId.value(), "mqtt.passwordSource", "login-token:" + audience + " " + dir.resolve("peer.key"),
                        "mqtt.brokerEnforcesSender", "true"))
                .connectTimeout(Duration.ofSeconds(10)).build();
        toClose.add(peer);
        peer.rendezvous().registered().toCompletableFuture().get(10, TimeUnit.SECONDS);

        // Negative control: a valid key signing for another audience is refused by the broker.
        RuntimeException wrongAudience = assertThrows(RuntimeException.class, () -> PeerLinks.device().identity(dir.resolve("app.key"))
                .transport(io.peerlink.Endpoint.parse("mqtt://" + host + "/" + appId.value()), Map.of("mqtt.protocolVersion", "MQTT_3_1_1",
                        "mqtt.username", appId.value(), "mqtt.passwordSource", "login-token:mqtt://elsewhere:1883 " + dir.resolve("app.key")))
                .connectTimeout(Duration.ofSeconds(5)).build().close(), "a login token for another audience must not log in");
        StringBuilder causes = new StringBuilder();
        for (Throwable t = wrongAudience; t != null; t = t.getCause()) {
            causes.append(t).append('\n');
        }
        assertTrue(causes.toString().contains("refused the connection"), "the broker refused the login: " + causes);

        injectedDeviceOnlyOnTheBroker(host, appId, peer, peerId, Map.of("mqtt.protocolVersion", "MQTT_3_1_1", "mqtt.username", appId.value(),
                "mqtt.passwordSource", "login-token:" + audience + " " + dir.resolve("app.key"), "mqtt.brokerEnforcesSender", "true"));
    }

    @Test
    void aRequestNoObserverDecidesOrWhoseObserverFailsIsRejected() throws Exception {
        DeviceId appId = identity("app");
        DeviceId peerId = identity("peer");
        ReferenceServer server = server(appId, peerId);
        configure("app", server);
        Device peer = plainDevice("peer", server);
        WeldContainer container = container();
        App app = container.select(App.class).get();
        Observers observers = container.select(Observers.class).get();
        app.device().rendezvous().registered().toCompletableFuture().get(10, TimeUnit.SECONDS);

        ExecutionException failure = assertThrows(ExecutionException.class,
                () -> peer.connect(appId).toCompletableFuture().get(15, TimeUnit.SECONDS));
        UnreachableException unreachable = assertInstanceOf(UnreachableException.class, failure.getCause());
        assertEquals(UnreachableException.Reason.REJECTED, unreachable.reason());
        assertEquals(peerId, observers.requests.poll(1, TimeUnit.SECONDS), "the observer saw the request");

        // An observer that throws: the request is rejected too, not left to time out.
        observers.fail = true;
        ExecutionException again = assertThrows(ExecutionException.class,
                () -> peer.connect(appId).toCompletableFuture().get(15, TimeUnit.SECONDS));
        assertEquals(UnreachableException.Reason.REJECTED,
                assertInstanceOf(UnreachableException.class, again.getCause()).reason());
        assertEquals(peerId, observers.requests.poll(1, TimeUnit.SECONDS));
    }

    @Test
    void anApplicationHandlerReplacesTheObserversAndItsLinksStillFireEvents() throws Exception {
        DeviceId appId = identity("app");
        DeviceId peerId = identity("peer");
        ReferenceServer server = server(appId, peerId);
        configure("app", server);
        Device peer = plainDevice("peer", server);
        WeldContainer container = container();
        Device device = container.select(App.class).get().device();
        Observers observers = container.select(Observers.class).get();
        device.rendezvous().registered().toCompletableFuture().get(10, TimeUnit.SECONDS);
        BlockingQueue<DeviceId> handled = new LinkedBlockingQueue<>();
        device.onIncoming(request -> {
            handled.add(request.from());
            request.accept();
        });

        PeerLink link = peer.connect(appId).toCompletableFuture().get(15, TimeUnit.SECONDS);
        assertEquals(peerId, handled.poll(10, TimeUnit.SECONDS));
        link.close();
        PeerLinkEvent closed = observers.peerLinkEvents.poll(10, TimeUnit.SECONDS);
        assertNotNull(closed, "the handler's link fires link events");
        assertInstanceOf(LinkEvent.Closed.class, closed.event());
        assertTrue(observers.requests.isEmpty(), "observers are not asked once a handler is set");
    }

    /** Replaces the built-in settings (system properties and file), which here are empty. */
    @Dependent
    static class OwnSettings {
        @Produces
        @Alternative
        @Priority(1)
        DeviceSettings settings() {
            // The transport as an endpoint URI, made by the provider of its scheme.
            return DeviceSettings.fromProperties(Map.of(DeviceSettings.IDENTITY_EPHEMERAL, "true",
                    DeviceSettings.TRANSPORTS, "udp://127.0.0.1:0"));
        }
    }

    @Test
    void anAlternativeSettingsProducerReplacesTheBuiltInOne() {
        WeldContainer container = toClosed(weld(App.class, OwnSettings.class).initialize());
        Device device = container.select(App.class).get().device();
        assertEquals(1, device.localEndpoints().size(), device.localEndpoints().toString());
        assertEquals("udp", device.localEndpoints().get(0).scheme());
        assertThrows(IllegalStateException.class, device::rendezvous, "no rendezvous was configured");
    }

    private WeldContainer toClosed(WeldContainer container) {
        toClose.add(() -> {
            if (container.isRunning()) {
                container.shutdown();
            }
        });
        return container;
    }

    @Test
    void missingKeyFailsTheContainerStartNamingTheKey() {
        System.setProperty(DeviceSettings.UDP, "127.0.0.1:0");
        DeploymentException e = assertThrows(DeploymentException.class,
                () -> weld(App.class).initialize());
        assertTrue(messages(e).contains("missing configuration key " + DeviceSettings.IDENTITY), messages(e));
    }

    @Test
    void malformedValueFailsNamingTheKeyAndValue() throws Exception {
        Path config = dir.resolve("bad.properties");
        Files.writeString(config, DeviceSettings.IDENTITY_EPHEMERAL + "=true\n" + DeviceSettings.UDP + "=localhost\n");
        System.setProperty(DeviceSettings.CONFIG_FILE, config.toString());
        DeploymentException e = assertThrows(DeploymentException.class,
                () -> weld(App.class).initialize());
        assertTrue(messages(e).contains(DeviceSettings.UDP + "=localhost: expected host:port"), messages(e));
    }

    private static String messages(Throwable t) {
        StringBuilder all = new StringBuilder();
        for (Throwable c = t; c != null; c = c.getCause()) {
            all.append(c).append('\n');
        }
        return all.toString();
    }
}
