package io.peerlink.transport.socketio;

import io.peerlink.Endpoint;
import io.peerlink.spi.DatagramHandler;
import io.peerlink.spi.Transport;
import io.peerlink.spi.TransportCapabilities;
import io.socket.client.Ack;
import io.socket.client.IO;
import io.socket.client.Socket;

import org.json.JSONObject;

import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Datagrams relayed by a PeerLink gateway server (namespace {@code /relay}, docs/gateway.md,
 * "Datagram relay") over Socket.IO with the {@code io.socket:socket.io-client} Java client, for
 * devices that can reach nothing but that server over HTTP(S). Endpoints are
 * {@code socketio://host:port/<id>}; this transport reaches the ids on its own server only.
 *
 * <p>Lifecycle as the SPI says: {@code start} connects and answers the server's challenge with
 * HMAC-SHA256 (blocking up to the connect timeout), {@code stop} disconnects, a stopped transport
 * can be started again, {@code destroy} is final. Handler calls come from the client's single
 * event thread, never concurrently, and never after {@code stop} returns.
 */
public final class SocketIoTransport implements Transport {

    public static final String SCHEME = "socketio";
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9._:-]{1,128}");
    private static final long CONNECT_TIMEOUT_SECONDS = 15;

    private final URI server;
    private final String id;
    private final byte[] secret;
    private final TransportCapabilities capabilities;
    private final Object lock = new Object();
    private State state = State.CREATED;
    /** Datagrams kept while start() waits: at most this many. */
    private static final int MAX_PENDING_AT_START = 64;
    /** The socket start() is authenticating (guarded by lock), and what arrived on it meanwhile. */
    private Socket starting;
    private final List<Object[]> pendingAtStart = new ArrayList<>();
    private Socket socket;
    private DatagramHandler handler;

    /**
     * @param server the gateway server's base URI, e.g. {@code http://127.0.0.1:8080}
     * @param id this device's relay id (a key store id on the server)
     * @param hmacSecret the HMAC-SHA256 secret the server holds for {@code id}
     */
    public SocketIoTransport(URI server, String id, byte[] hmacSecret) {
        this.server = Objects.requireNonNull(server, "server");
        this.id = Objects.requireNonNull(id, "id");
        Objects.requireNonNull(hmacSecret, "hmacSecret");
        if (!ID.matcher(id).matches()) {
            throw new IllegalArgumentException("id must be 1-128 characters of A-Z a-z 0-9 . _ : -: " + id);
        }
        if (!"http".equals(server.getScheme()) && !"https".equals(server.getScheme()) || server.getPort() < 0) {
            throw new IllegalArgumentException("server must be http(s)://host:port: " + server);
        }
        this.secret = hmacSecret.clone();
        // The relay carries 16 KiB; TCP below makes it reliable and ordered per pair, but a
        // datagram to an absent peer is dropped, so we declare neither.
        this.capabilities = TransportCapabilities.builder().maxDatagramSize(16 * 1024).relayed(true).build();
    }

    @Override
    public void start(DatagramHandler handler) throws IOException {
        Objects.requireNonNull(handler, "handler");
        Socket s;
        synchronized (lock) {
            if (state != State.CREATED && state != State.STOPPED) {
                throw new IllegalStateException("start in state " + state);
            }
            IO.Options options = new IO.Options();
            options.forceNew = true;
            options.reconnection = false;
            options.transports = new String[] {"websocket"};
            options.path = "/socket.io";
            options.webSocketFactory = NoDelayHttp.CLIENT;
            options.callFactory = NoDelayHttp.CLIENT;
            s = IO.socket(server.resolve("/relay"), options);
            starting = s;
            pendingAtStart.clear();
        }
        CompletableFuture<JSONObject> challenge = new CompletableFuture<>();
        CompletableFuture<Void> authenticated = new CompletableFuture<>();
        s.on("challenge", args -> {
            if (args.length > 0 && args[0] instanceof JSONObject c) {
                challenge.complete(c);
            }
        });
        s.on(Socket.EVENT_CONNECT_ERROR, args -> authenticated.completeExceptionally(
                new IOException("cannot connect to " + server + ": " + Arrays.toString(args))));
        s.on("datagram", args -> deliver(s, args));
        s.on(Socket.EVENT_DISCONNECT, args -> authenticated.completeExceptionally(
                new IOException("server closed the connection: " + Arrays.toString(args))));
        challenge.thenAccept(c -> {
            String nonce = c.optString("nonce");
            JSONObject answer = new JSONObject().put("gatewayId", id).put("algorithm", "HMAC-SHA256")
                    .put("nonce", nonce).put("proof", Base64.getEncoder().encodeToString(hmac(nonce)));
            s.emit("authenticate", answer, (Ack) reply -> {
                if (reply.length > 0 && reply[0] instanceof JSONObject r && r.optBoolean("ok")) {
                    authenticated.complete(null);
                } else {
                    authenticated.completeExceptionally(new IOException("relay refused authentication: "
                            + Arrays.toString(reply)));
                }
            });
        });
        s.connect();
        try {
            authenticated.get(CONNECT_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            s.close();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while connecting", e);
        } catch (ExecutionException | TimeoutException e) {
            s.close();
            throw e.getCause() instanceof IOException io ? io : new IOException("cannot start: " + e, e);
        }
        synchronized (lock) {
            if (state == State.DESTROYED) {
                s.close();
                throw new IllegalStateException("destroyed while starting");
            }
            if (state == State.STARTED) {
                s.close();
                throw new IllegalStateException("start in state " + state);
            }
            this.socket = s;
            this.handler = handler;
            state = State.STARTED;
            starting = null;
            List<Object[]> early = new ArrayList<>(pendingAtStart);
            pendingAtStart.clear();
            for (Object[] m : early) {
                deliver(s, m);
            }
        }
    }

    private void deliver(Socket from, Object[] args) {
        if (args.length < 2 || !(args[0] instanceof String sender) || !(args[1] instanceof byte[] data)
                || !ID.matcher(sender).matches()) {
            return; // not a relay datagram: ignore, like a UDP socket ignores noise
        }
        // Delivery holds the lock so that stop() cannot return while a handler call is running.
        synchronized (lock) {
            if (state != State.STARTED || socket != from) {
                // The relay may forward a datagram right after acknowledging authentication, before
                // start() has published the socket: keep a few for start() to deliver.
                if (starting == from && pendingAtStart.size() < MAX_PENDING_AT_START) {
                    pendingAtStart.add(new Object[] {sender, data});
                }
                return;
            }
            try {
                handler.onDatagram(new Endpoint(SCHEME, server.getHost(), server.getPort(), "/" + sender),
                        ByteBuffer.wrap(data));
            } catch (RuntimeException e) {
                // A failing handler must not stop reception (rule T6.5).
            }
        }
    }

    private byte[] hmac(String nonce) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret, "HmacSHA256"));
            return mac.doFinal(("peerlink-gateway-auth-v1\n" + id + "\n" + nonce).getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is mandatory in every JDK", e);
        }
    }

    @Override
    public void stop() {
        Socket s;
        synchronized (lock) {
            if (state != State.STARTED) {
                return;
            }
            state = State.STOPPED;
            s = socket;
            socket = null;
            handler = null;
        }
        s.close();
    }

    @Override
    public void destroy() {
        Socket s;
        synchronized (lock) {
            s = socket;
            socket = null;
            handler = null;
            state = State.DESTROYED;
        }
        if (s != null) {
            s.close();
        }
    }

    @Override
    public State state() {
        synchronized (lock) {
            return state;
        }
    }

    @Override
    public Endpoint localEndpoint() {
        synchronized (lock) {
            if (state != State.STARTED) {
                throw new IllegalStateException("no local endpoint in state " + state);
            }
        }
        return new Endpoint(SCHEME, server.getHost(), server.getPort(), "/" + id);
    }

    @Override
    public TransportCapabilities capabilities() {
        return capabilities;
    }

    @Override
    public boolean supports(Endpoint remote) {
        Objects.requireNonNull(remote, "remote");
        return SCHEME.equals(remote.scheme()) && server.getHost().equals(remote.host())
                && server.getPort() == remote.port() && remote.path().startsWith("/")
                && ID.matcher(remote.path().substring(1)).matches();
    }

    @Override
    public boolean send(Endpoint remote, ByteBuffer datagram) {
        Objects.requireNonNull(remote, "remote");
        Objects.requireNonNull(datagram, "datagram");
        Socket s;
        synchronized (lock) {
            if (state != State.STARTED) {
                throw new IllegalStateException("send in state " + state);
            }
            s = socket;
        }
        if (!supports(remote)) {
            throw new IllegalArgumentException("not reachable through " + server + ": " + remote);
        }
        if (datagram.remaining() > capabilities.maxDatagramSize()) {
            throw new IllegalArgumentException("datagram of " + datagram.remaining() + " bytes exceeds "
                    + capabilities.maxDatagramSize());
        }
        byte[] copy = new byte[datagram.remaining()];
        datagram.get(copy);
        // emit only queues onto the client's event thread: it never blocks the caller.
        s.emit("datagram", remote.path().substring(1), copy);
        return true;
    }
}
