package io.peerlink.server.dashboard;

import io.peerlink.DeviceId;
import io.peerlink.protocol.rendezvous.ErrorCode;
import io.peerlink.protocol.rendezvous.Message;
import io.peerlink.server.rendezvous.LinkReports;
import io.peerlink.server.rendezvous.RendezvousEvents;
import io.peerlink.server.rendezvous.RendezvousService;
import jakarta.json.bind.Jsonb;
import jakarta.json.bind.JsonbBuilder;
import org.eclipse.jetty.http.HttpCookie;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The operator's live dashboard (docs/operations.md, "Dashboard"): static HTML, JavaScript and
 * CSS from the jar under {@code /dashboard/}, a JSON snapshot at {@code /dashboard/snapshot}, and
 * the same snapshot pushed once per second as Server-Sent Events at {@code /dashboard/events}.
 * It shows devices online per network, the devices themselves, links as the devices report them
 * (path kind, RTT, traffic) and the most recent refusals.
 *
 * <p>Access: the operator token that guards {@code /status} and {@code /metrics}. Data endpoints
 * answer 401 unless the request carries {@code Authorization: Bearer <token>} or the cookie a
 * successful {@code POST /dashboard/login} (with that header) set: 256 random bits, HttpOnly,
 * SameSite=Strict, path {@code /dashboard}, Secure over TLS, valid for 12 hours. The static files
 * hold no data and are served to anyone.
 *
 * <p>Self-contained: {@link #handler()} is a Jetty handler to mount at context path
 * {@link #PATH} (it answers every path below it); {@link #events()} must be subscribed to the
 * rendezvous service; {@link #close()} ends the pushes. {@link DashboardEndpoint} does all three
 * as the server's CDI endpoint bean.
 */
public final class Dashboard implements AutoCloseable {
    /** The URL prefix. */
    public static final String PATH = "/dashboard";
    /** How often open pages get a new snapshot, ms. */
    public static final long DEFAULT_PERIOD_MILLIS = 1000;
    static final String COOKIE = "peerlink-dashboard";
    static final Duration SESSION_LIFETIME = Duration.ofHours(12);
    static final int MAX_SESSIONS = 64;
    static final int MAX_STREAMS = 32;
    static final int MAX_DEVICES_SHOWN = 500;
    static final int MAX_LINKS_SHOWN = 500;
    static final int MAX_REFUSALS = 50;
    /** Failed logins allowed per 10 s, from all sources together (the token is >= 16 characters; this caps noise, not guessing). */
    static final int MAX_FAILED_LOGINS = 10;
    private static final Map<String, String> STATIC = Map.of(
            "/", "index.html",
            "/index.html", "index.html",
            "/app.js", "app.js",
            "/style.css", "style.css");

    private final RendezvousService rendezvous;
    private final byte[] expectedHeader;
    private final long periodMillis;
    private final Jsonb json = JsonbBuilder.create();
    private final SecureRandom random = new SecureRandom();
    private final Map<String, Long> sessions = new ConcurrentHashMap<>();
    private final List<Stream> streams = new CopyOnWriteArrayList<>();
    private final ArrayDeque<Refusal> refusals = new ArrayDeque<>();
    private final AtomicLong admissions = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();
    private final AtomicLong failedLogins = new AtomicLong();
    private volatile long failedLoginWindowStart = System.nanoTime();
    private final Map<String, byte[]> files = new HashMap<>();
    private final ScheduledExecutorService timer;
    private final RendezvousEvents events = new Events();
    private final Handler handler = new DashboardHandler();

    /**
     * One refusal as the dashboard shows it.
     *
     * @param atMillis when, epoch ms
     * @param reason the error code answered
     * @param message the error text (may quote device input: shown as text, never as markup)
     * @param from remote address
     * @param device the claimed device ID, or null
     */
    public record Refusal(long atMillis, String reason, String message, String from, String device) {
    }

    /** @param name network @param online devices online in it */
    public record NetworkRow(String name, int online) {
    }

    /**
     * @param id device ID
     * @param network its network
     * @param from control connection's remote address
     * @param connectedAtMillis when it connected, epoch ms
     * @param rttMillis control-connection RTT, ms (negative: not measured)
     */
    public record DeviceRow(String id, String network, String from, long connectedAtMillis, double rttMillis) {
    }

    /**
     * A link, merged from its two ends' reports.
     *
     * @param a one device (the smaller ID)
     * @param b the other
     * @param path path kind of the latest report
     * @param rttMillis link RTT, ms
     * @param bytesAtoB bytes a reported sent (or b reported received when only b reported)
     * @param bytesBtoA bytes b reported sent (or a reported received)
     * @param reportedBy 1 or 2: how many ends report this link
     */
    public record LinkRow(String a, String b, String path, double rttMillis, long bytesAtoB, long bytesBtoA, int reportedBy) {
    }

    /**
     * What the page shows (JSON-B writes it).
     *
     * @param atMillis when taken, epoch ms
     * @param devicesOnline devices online in total
     * @param admissions admissions since start
     * @param refusalsTotal refusals since start
     * @param introductions introductions since start
     * @param connectRequests connect requests since start
     * @param networks online devices per network
     * @param devices up to 500 devices, most recently connected first
     * @param links up to 500 links
     * @param refusals the latest refusals, newest first (at most 50)
     * @param relayedTurnBytes datagram bytes the embedded TURN server relayed since start (docs/relay.md)
     * @param relayedWsBytes datagram bytes relayed over rendezvous WebSockets since start
     * @param relayDropped relayed datagrams dropped since start (limits, permissions, undeliverable), both relays
     */
    public record Snapshot(long atMillis, int devicesOnline, long admissions, long refusalsTotal, long introductions,
                           long connectRequests, List<NetworkRow> networks, List<DeviceRow> devices, List<LinkRow> links,
                           List<Refusal> refusals, long relayedTurnBytes, long relayedWsBytes, long relayDropped) {
    }

    /**
     * @param rendezvous the service whose state is shown
     * @param operatorToken the operator token (at least 16 characters)
     * @param period how often the snapshot is pushed to open pages
     */
    public Dashboard(RendezvousService rendezvous, String operatorToken, Duration period) {
        this.rendezvous = Objects.requireNonNull(rendezvous, "rendezvous");
        Objects.requireNonNull(operatorToken, "operatorToken");
        if (operatorToken.length() < 16) {
            throw new IllegalArgumentException("the operator token must have at least 16 characters");
        }
        this.expectedHeader = ("Bearer " + operatorToken).getBytes(StandardCharsets.UTF_8);
        this.periodMillis = period.toMillis();
        for (String file : Set.copyOf(STATIC.values())) {
            try (InputStream in = Dashboard.class.getResourceAsStream(file)) {
                if (in == null) {
                    throw new IllegalStateException("dashboard resource " + file + " is missing from the jar");
                }
                files.put(file, in.readAllBytes());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        ScheduledThreadPoolExecutor t = new ScheduledThreadPoolExecutor(1, r -> {
            Thread thread = new Thread(r, "peerlink-dashboard");
            thread.setDaemon(true);
            return thread;
        });
        t.setRemoveOnCancelPolicy(true);
        this.timer = t;
        timer.scheduleWithFixedDelay(this::push, periodMillis, periodMillis, TimeUnit.MILLISECONDS);
    }


    /** @return the handler to mount at context path {@link #PATH}; it answers every path below it (unknown ones with 404) */
    public Handler handler() {
        return handler;
    }

    /** @return the observer to subscribe to the rendezvous service (refusals and admissions) */
    public RendezvousEvents events() {
        return events;
    }

    /** @return pages receiving pushes now */
    public int streams() {
        return streams.size();
    }

    /** @return the current snapshot (O(devices online)) */
    public Snapshot snapshot() {
        Map<String, Integer> networks = new TreeMap<>();
        List<DeviceRow> devices = new ArrayList<>();
        Map<String, LinkRow> links = new HashMap<>();
        int[] online = {0};
        LinkReports.forEachSession(rendezvous, s -> {
            online[0]++;
            networks.merge(s.network(), 1, Integer::sum);
            devices.add(new DeviceRow(s.id().value(), s.network(), address(s.from()), s.connectedAtMillis(), round(s.rttMillis())));
            for (Message.LinkReport.Link l : s.links()) {
                merge(links, s.id(), l);
            }
        });
        devices.sort(Comparator.comparingLong(DeviceRow::connectedAtMillis).reversed().thenComparing(DeviceRow::id));
        List<LinkRow> linkRows = new ArrayList<>(links.values());
        linkRows.sort(Comparator.comparing(LinkRow::a).thenComparing(LinkRow::b));
        List<NetworkRow> networkRows = new ArrayList<>();
        networks.forEach((n, c) -> networkRows.add(new NetworkRow(n, c)));
        io.peerlink.server.relay.TurnRelays relays = rendezvous.relays();
        io.peerlink.relay.turn.TurnServer.Stats turn = relays == null || relays.embedded() == null ? null : relays.embedded().stats();
        List<Refusal> recent;
        synchronized (refusals) {
            recent = new ArrayList<>(refusals);
        }
        return new Snapshot(System.currentTimeMillis(), online[0], admissions.get(), refused.get(), rendezvous.introductions(),
                rendezvous.connectRequests(), networkRows, List.copyOf(devices.subList(0, Math.min(MAX_DEVICES_SHOWN, devices.size()))),
                List.copyOf(linkRows.subList(0, Math.min(MAX_LINKS_SHOWN, linkRows.size()))), recent,
                turn == null ? 0 : turn.relayedBytes(), rendezvous.wsRelay().relayedBytes(),
                (turn == null ? 0 : turn.droppedFrames()) + rendezvous.wsRelay().dropped());
    }

    private static void merge(Map<String, LinkRow> links, DeviceId reporter, Message.LinkReport.Link l) {
        boolean reporterIsA = reporter.value().compareTo(l.peer().value()) < 0;
        String a = reporterIsA ? reporter.value() : l.peer().value();
        String b = reporterIsA ? l.peer().value() : reporter.value();
        long aToB = reporterIsA ? l.bytesSent() : l.bytesReceived();
        long bToA = reporterIsA ? l.bytesReceived() : l.bytesSent();
        LinkRow mine = new LinkRow(a, b, l.path().name(), round(l.rttMicros() / 1000.0), aToB, bToA, 1);
        links.merge(a + " " + b, mine, (old, add) -> {
            // Each side counts its own sends best: take a's sends from a's report and b's from b's.
            long ab = reporterIsA ? add.bytesAtoB() : old.bytesAtoB();
            long ba = reporterIsA ? old.bytesBtoA() : add.bytesBtoA();
            return new LinkRow(a, b, add.path(), Math.max(old.rttMillis(), add.rttMillis()), ab, ba, 2);
        });
    }

    private static double round(double v) {
        return Math.round(v * 100) / 100.0;
    }

    private static String address(InetSocketAddress a) {
        return a == null ? "" : a.getAddress() == null ? a.getHostString() + ":" + a.getPort()
                : (a.getAddress() instanceof java.net.Inet6Address ? "[" + a.getAddress().getHostAddress() + "]" : a.getAddress().getHostAddress())
                + ":" + a.getPort();
    }

    private void push() {
        try {
            if (streams.isEmpty()) {
                return;
            }
            byte[] event = ("event: snapshot\ndata: " + json.toJson(snapshot()) + "\n\n").getBytes(StandardCharsets.UTF_8);
            for (Stream s : streams) {
                s.send(event);
            }
        } catch (RuntimeException e) {
            System.getLogger(Dashboard.class.getName()).log(System.Logger.Level.WARNING, "dashboard push failed", e);
        }
    }

    /** Ends every open stream and stops pushing; idempotent. */
    @Override
    public void close() {
        timer.shutdownNow();
        for (Stream s : streams) {
            s.end();
        }
        streams.clear();
        sessions.clear();
        try {
            json.close();
        } catch (Exception e) {
            // Yasson's close releases caches only.
        }
    }

    /** One open {@code /dashboard/events} response; at most one write in flight (a slow page skips snapshots). */
    private final class Stream {
        private final Response response;
        private final Callback done;
        private final AtomicBoolean writing = new AtomicBoolean();
        private final AtomicBoolean ended = new AtomicBoolean();

        Stream(Response response, Callback done) {
            this.response = response;
            this.done = done;
        }

        void send(byte[] event) {
            if (ended.get() || !writing.compareAndSet(false, true)) {
                return;
            }
            response.write(false, ByteBuffer.wrap(event), Callback.from(() -> writing.set(false), this::failed));
        }

        void failed(Throwable cause) {
            if (ended.compareAndSet(false, true)) {
                streams.remove(this);
                done.failed(cause);
            }
        }

        void end() {
            if (ended.compareAndSet(false, true)) {
                response.write(true, null, done);
            }
        }
    }

    private final class Events implements RendezvousEvents {
        @Override
        public void admitted(String network) {
            admissions.incrementAndGet();
        }

        @Override
        public void refused(ErrorCode reason, String message, InetSocketAddress from, DeviceId claimed) {
            refused.incrementAndGet();
            Refusal r = new Refusal(System.currentTimeMillis(), reason.name(), message, address(from), claimed == null ? null : claimed.value());
            synchronized (refusals) {
                refusals.addFirst(r);
                while (refusals.size() > MAX_REFUSALS) {
                    refusals.removeLast();
                }
            }
        }
    }

    private boolean authorized(Request request) {
        String header = request.getHeaders().get(HttpHeader.AUTHORIZATION);
        if (header != null) {
            return MessageDigest.isEqual(header.getBytes(StandardCharsets.UTF_8), expectedHeader);
        }
        for (HttpCookie c : Request.getCookies(request)) {
            if (COOKIE.equals(c.getName())) {
                Long expires = sessions.get(c.getValue());
                if (expires != null && expires > System.currentTimeMillis()) {
                    return true;
                }
            }
        }
        return false;
    }

    private String newSession() {
        long now = System.currentTimeMillis();
        sessions.values().removeIf(expires -> expires <= now);
        while (sessions.size() >= MAX_SESSIONS) {
            // Full: the session closest to expiry (the oldest login) goes.
            Iterator<Map.Entry<String, Long>> oldest = sessions.entrySet().stream()
                    .sorted(Map.Entry.comparingByValue()).iterator();
            if (!oldest.hasNext()) {
                break;
            }
            sessions.remove(oldest.next().getKey());
        }
        byte[] raw = new byte[32];
        random.nextBytes(raw);
        String id = Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
        sessions.put(id, now + SESSION_LIFETIME.toMillis());
        return id;
    }

    private boolean loginRateExceeded() {
        long now = System.nanoTime();
        if (now - failedLoginWindowStart > TimeUnit.SECONDS.toNanos(10)) {
            failedLoginWindowStart = now;
            failedLogins.set(0);
        }
        return failedLogins.get() >= MAX_FAILED_LOGINS;
    }

    private final class DashboardHandler extends Handler.Abstract.NonBlocking {
        @Override
        public boolean handle(Request request, Response response, Callback callback) {
            // Mounted at /dashboard: the path below it ("/", "/app.js", "/events", ...).
            String sub = Request.getPathInContext(request);
            String method = request.getMethod();
            response.getHeaders().put("X-Content-Type-Options", "nosniff");
            response.getHeaders().put("Referrer-Policy", "no-referrer");
            if (sub.isEmpty()) {
                Response.sendRedirect(request, response, callback, PATH + "/");
                return true;
            }
            String file = STATIC.get(sub);
            if (file != null && "GET".equals(method)) {
                String type = file.endsWith(".html") ? "text/html; charset=utf-8"
                        : file.endsWith(".js") ? "text/javascript; charset=utf-8" : "text/css; charset=utf-8";
                response.getHeaders().put(HttpHeader.CONTENT_TYPE, type);
                // No inline script or style, nothing from elsewhere, never framed.
                response.getHeaders().put("Content-Security-Policy",
                        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self';"
                                + " form-action 'none'; frame-ancestors 'none'; base-uri 'none'");
                response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-cache");
                response.write(true, ByteBuffer.wrap(files.get(file)), callback);
                return true;
            }
            if ("/login".equals(sub) && "POST".equals(method)) {
                if (loginRateExceeded()) {
                    plain(response, callback, HttpStatus.TOO_MANY_REQUESTS_429, "too many failed logins; wait 10 seconds\n");
                    return true;
                }
                String header = request.getHeaders().get(HttpHeader.AUTHORIZATION);
                if (header == null || !MessageDigest.isEqual(header.getBytes(StandardCharsets.UTF_8), expectedHeader)) {
                    failedLogins.incrementAndGet();
                    plain(response, callback, HttpStatus.UNAUTHORIZED_401, "wrong operator token\n");
                    return true;
                }
                HttpCookie cookie = HttpCookie.build(COOKIE, newSession())
                        .path(PATH).httpOnly(true).secure(request.isSecure()).sameSite(HttpCookie.SameSite.STRICT)
                        .maxAge(SESSION_LIFETIME.toSeconds()).build();
                Response.putCookie(response, cookie);
                response.setStatus(HttpStatus.NO_CONTENT_204);
                callback.succeeded();
                return true;
            }
            if ("/logout".equals(sub) && "POST".equals(method)) {
                for (HttpCookie c : Request.getCookies(request)) {
                    if (COOKIE.equals(c.getName())) {
                        sessions.remove(c.getValue());
                    }
                }
                response.setStatus(HttpStatus.NO_CONTENT_204);
                callback.succeeded();
                return true;
            }
            boolean data = "/snapshot".equals(sub) || "/events".equals(sub);
            if (!data || !"GET".equals(method)) {
                plain(response, callback, HttpStatus.NOT_FOUND_404, "not found\n");
                return true;
            }
            if (!authorized(request)) {
                response.getHeaders().put(HttpHeader.WWW_AUTHENTICATE, "Bearer realm=\"peerlink\"");
                plain(response, callback, HttpStatus.UNAUTHORIZED_401, "operator token required\n");
                return true;
            }
            response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
            if ("/snapshot".equals(sub)) {
                response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
                Content.Sink.write(response, true, json.toJson(snapshot()), callback);
                return true;
            }
            if (streams.size() >= MAX_STREAMS) {
                plain(response, callback, HttpStatus.SERVICE_UNAVAILABLE_503, "too many open dashboards (" + MAX_STREAMS + ")\n");
                return true;
            }
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/event-stream; charset=utf-8");
            Stream stream = new Stream(response, callback);
            streams.add(stream);
            // The first snapshot at once, so the page fills without waiting for the next period.
            stream.send(("retry: 2000\nevent: snapshot\ndata: " + json.toJson(snapshot()) + "\n\n").getBytes(StandardCharsets.UTF_8));
            return true;
        }

        private void plain(Response response, Callback callback, int status, String text) {
            response.setStatus(status);
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain; charset=utf-8");
            Content.Sink.write(response, true, text, callback);
        }
    }
}
