package io.peerlink.transport.coap;

import io.peerlink.Endpoint;
import io.peerlink.spi.DatagramHandler;
import io.peerlink.spi.Transport;
import io.peerlink.spi.TransportCapabilities;
import io.peerlink.spi.TransportConfig;

import org.eclipse.californium.core.coap.CoAP;
import org.eclipse.californium.core.coap.Message;
import org.eclipse.californium.core.coap.NoResponseOption;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Token;
import org.eclipse.californium.core.network.serialization.UdpDataParser;
import org.eclipse.californium.core.network.serialization.UdpDataSerializer;
import org.eclipse.californium.elements.AddressEndpointContext;
import org.eclipse.californium.elements.Connector;
import org.eclipse.californium.elements.EndpointContext;
import org.eclipse.californium.elements.MessageCallback;
import org.eclipse.californium.elements.RawData;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.regex.Pattern;

/**
 * PeerLink datagrams as CoAP messages: each datagram is the payload of a non-confirmable POST to
 * one fixed resource ({@code /pl} by default) with a No-Response option (RFC 7967) suppressing
 * every answer, so one datagram is one CoAP message and nothing else travels. Encoding, decoding
 * and the socket (UDP, or DTLS for {@code coaps}) are Californium's; the transport uses its
 * connector and message codec directly rather than its request/response exchange layer, which
 * would keep state for answers that never come.
 */
final class CoapTransport implements Transport {
    private static final Logger LOG = Logger.getLogger(CoapTransport.class.getName());
    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");
    /** RFC 7967: suppress 2.xx, 4.xx and 5.xx responses. */
    private static final int SUPPRESS_ALL = NoResponseOption.SUPPRESS_SUCCESS | NoResponseOption.SUPPRESS_CLIENT_ERROR
            | NoResponseOption.SUPPRESS_SERVER_ERROR;

    private final String scheme;
    private final Endpoint bind;
    private final String resource;
    private final int queueLimit;
    private final Function<InetSocketAddress, Connector> connectors;
    private final TransportCapabilities capabilities;
    private final ReentrantLock lifecycle = new ReentrantLock();
    private final ReentrantLock delivery = new ReentrantLock();
    private final AtomicInteger messageId = new AtomicInteger((int) (System.nanoTime() & 0xFFFF));
    private final AtomicInteger queued = new AtomicInteger();
    private final ConcurrentHashMap<InetSocketAddress, Endpoint> sources = new ConcurrentHashMap<>();
    private final UdpDataSerializer serializer = new UdpDataSerializer();
    private final UdpDataParser parser = new UdpDataParser();
    private volatile State state = State.CREATED;
    private volatile Connector connector;
    private volatile Endpoint local;
    private volatile DatagramHandler handler;

    CoapTransport(String scheme, TransportConfig config, Function<InetSocketAddress, Connector> connectors) {
        this.scheme = scheme;
        this.bind = config.bindEndpoint();
        this.resource = config.get(CoapOptions.RESOURCE);
        this.queueLimit = config.get(CoapOptions.SEND_QUEUE);
        this.connectors = connectors;
        int max = config.get(CoapOptions.MAX_DATAGRAM_SIZE);
        if (max < 64 || max > 60_000) {
            throw new IllegalArgumentException("coap.maxDatagramSize must be 64..60000: " + max);
        }
        if (resource.isEmpty() || resource.contains("/")) {
            throw new IllegalArgumentException("coap.resource must be one non-empty path segment: '" + resource + "'");
        }
        if (queueLimit < 1) {
            throw new IllegalArgumentException("coap.sendQueue must be positive: " + queueLimit);
        }
        this.capabilities = TransportCapabilities.builder().reliable(false).ordered(false).maxDatagramSize(max)
                .peerAuthentication(false).build();
        literal(bind.host()); // fail early on a host name
    }

    static InetAddress literal(String host) {
        if (!IPV4.matcher(host).matches() && host.indexOf(':') < 0) {
            throw new IllegalArgumentException("coap transport endpoints need an IP literal, not '" + host + "'");
        }
        try {
            // An IP literal: InetAddress parses it without any name lookup.
            return InetAddress.getByName(host);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("not an IP literal: '" + host + "'", e);
        }
    }

    @Override
    public void start(DatagramHandler h) throws IOException {
        Objects.requireNonNull(h, "handler");
        lifecycle.lock();
        try {
            if (state == State.STARTED || state == State.DESTROYED) {
                throw new IllegalStateException("cannot start a transport that is " + state);
            }
            Connector c = connectors.apply(new InetSocketAddress(literal(bind.host()), bind.port()));
            c.setRawDataReceiver(this::receive);
            try {
                c.start();
            } catch (IOException e) {
                c.destroy();
                throw e;
            }
            handler = h;
            connector = c;
            InetSocketAddress address = c.getAddress();
            local = new Endpoint(scheme, address.getAddress().getHostAddress(), address.getPort(), "/" + resource);
            sources.clear();
            state = State.STARTED;
        } finally {
            lifecycle.unlock();
        }
    }

    @Override
    public void stop() {
        lifecycle.lock();
        try {
            if (state != State.STARTED) {
                return;
            }
            state = State.STOPPED;
            Connector c = connector;
            connector = null;
            c.destroy();
        } finally {
            lifecycle.unlock();
        }
        // Wait for a handler call in progress (unless this is that call).
        if (!delivery.isHeldByCurrentThread()) {
            delivery.lock();
            delivery.unlock();
        }
    }

    @Override
    public void destroy() {
        stop();
        state = State.DESTROYED;
    }

    @Override
    public State state() {
        return state;
    }

    @Override
    public Endpoint localEndpoint() {
        Endpoint e = local;
        if (state != State.STARTED || e == null) {
            throw new IllegalStateException("not started");
        }
        return e;
    }

    @Override
    public TransportCapabilities capabilities() {
        return capabilities;
    }

    @Override
    public boolean supports(Endpoint remote) {
        Objects.requireNonNull(remote, "remote");
        if (!remote.scheme().equals(scheme) || remote.port() == 0) {
            return false;
        }
        try {
            InetAddress address = literal(remote.host());
            return (address instanceof Inet4Address) == (literal(bind.host()) instanceof Inet4Address);
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    @Override
    public boolean send(Endpoint remote, ByteBuffer datagram) {
        Objects.requireNonNull(remote, "remote");
        Objects.requireNonNull(datagram, "datagram");
        Connector c = connector;
        if (state != State.STARTED || c == null) {
            throw new IllegalStateException("cannot send: the transport is " + state);
        }
        if (datagram.remaining() > capabilities.maxDatagramSize()) {
            throw new IllegalArgumentException("datagram of " + datagram.remaining() + " bytes exceeds "
                    + capabilities.maxDatagramSize());
        }
        if (!supports(remote)) {
            throw new IllegalArgumentException("unsupported endpoint " + remote);
        }
        byte[] payload = new byte[datagram.remaining()];
        datagram.get(payload);
        if (queued.incrementAndGet() > queueLimit) {
            queued.decrementAndGet();
            return false;
        }
        Request request = new Request(CoAP.Code.POST, CoAP.Type.NON);
        request.setMID(messageId.getAndIncrement() & 0xFFFF);
        request.setToken(Token.EMPTY);
        String path = remote.path().isEmpty() || remote.path().equals("/") ? resource : remote.path().substring(
                remote.path().startsWith("/") ? 1 : 0);
        for (String segment : path.split("/")) {
            request.getOptions().addUriPath(segment);
        }
        request.getOptions().setNoResponse(SUPPRESS_ALL);
        request.setPayload(payload);
        InetSocketAddress to = new InetSocketAddress(literal(remote.host()), remote.port());
        request.setDestinationContext(new AddressEndpointContext(to));
        RawData raw = serializer.serializeRequest(request, new Completion());
        c.send(raw);
        return true;
    }

    /** Counts a datagram out of the send queue once the connector sent or dropped it. */
    private final class Completion implements MessageCallback {
        @Override
        public void onConnecting() {
        }

        @Override
        public void onDtlsRetransmission(int flight) {
        }

        @Override
        public void onContextEstablished(EndpointContext context) {
        }

        @Override
        public void onSent() {
            queued.decrementAndGet();
        }

        @Override
        public void onError(Throwable error) {
            queued.decrementAndGet();
        }
    }

    void receive(RawData raw) {
        Message message;
        try {
            message = parser.parseMessage(raw);
        } catch (RuntimeException e) {
            // Hostile or foreign input: not a CoAP message. Dropped; the transport keeps receiving.
            LOG.log(Level.FINEST, "dropped a datagram that is not a CoAP message", e);
            return;
        }
        if (!(message instanceof Request request) || request.getCode() != CoAP.Code.POST
                || request.getType() != CoAP.Type.NON || !isOurResource(request.getOptions().getUriPath())) {
            LOG.finest("dropped a CoAP message that is not a PeerLink datagram");
            return;
        }
        InetSocketAddress from = raw.getInetSocketAddress();
        Endpoint source = sources.computeIfAbsent(from, a -> new Endpoint(scheme, a.getAddress().getHostAddress(),
                a.getPort(), "/" + resource));
        if (sources.size() > 4096) {
            sources.clear(); // a bound, not an eviction policy: sources are cheap to rebuild
        }
        byte[] payload = request.getPayload() == null ? new byte[0] : request.getPayload();
        delivery.lock();
        try {
            DatagramHandler h = handler;
            if (state != State.STARTED || h == null) {
                return;
            }
            h.onDatagram(source, ByteBuffer.wrap(payload).asReadOnlyBuffer());
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "the datagram handler threw; the transport keeps receiving", e);
        } finally {
            delivery.unlock();
        }
    }

    private boolean isOurResource(List<String> path) {
        return path.size() == 1 && path.get(0).equals(resource);
    }
}
