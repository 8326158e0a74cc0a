package io.peerlink.bench.bridge;

import io.peerlink.LookupQuery;
import io.peerlink.PeerLinks;
import io.peerlink.RegistrationRequest;
import io.peerlink.ResourceBridge;
import io.peerlink.ResourceLink;
import io.peerlink.bridge.internal.CoapResourceBridge;

import org.eclipse.californium.core.CoapClient;
import org.eclipse.californium.core.CoapHandler;
import org.eclipse.californium.core.CoapResponse;
import org.eclipse.californium.core.coap.CoAP;
import org.eclipse.californium.core.coap.EmptyMessage;
import org.eclipse.californium.core.coap.MediaTypeRegistry;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.core.network.interceptors.MessageInterceptor;
import org.eclipse.jetty.client.ContentResponse;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.ConnectionStatistics;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * ResourceBridge end-to-end benchmark on loopback, baselines in the same run:
 *
 * <ol>
 * <li>latency of a bridged GET (Californium CoAP client -> virtual resource -> Jetty HTTP service)
 *     against a direct HTTP GET of the same service from Jetty's client, interleaved;</li>
 * <li>bridged requests per second with many requests outstanding;</li>
 * <li>a filtered resource lookup over CoAP in a directory of 10,000 endpoints;</li>
 * <li>bytes on the wire for the weather request, bridged (CoAP) and direct (HTTP).</li>
 * </ol>
 *
 * Run: {@code java -cp benchmarks/target/benchmarks.jar io.peerlink.bench.bridge.BridgeBench [seconds]}.
 */
public final class BridgeBench {
    /** The weather document the service returns: the fixture the bridge tests use. */
    static final byte[] WEATHER = ("{\"coord\":{\"lon\":13.41,\"lat\":52.52},\"weather\":[{\"id\":803,\"main\":\"Clouds\","
            + "\"description\":\"broken clouds\",\"icon\":\"04d\"}],\"base\":\"stations\",\"main\":{\"temp\":7.4,"
            + "\"feels_like\":4.9,\"temp_min\":6.1,\"temp_max\":8.3,\"pressure\":1016,\"humidity\":81},"
            + "\"visibility\":10000,\"wind\":{\"speed\":3.6,\"deg\":250},\"clouds\":{\"all\":75},\"dt\":1764662400,"
            + "\"sys\":{\"type\":2,\"id\":2011538,\"country\":\"DE\",\"sunrise\":1764658391,\"sunset\":1764687290},"
            + "\"timezone\":3600,\"id\":2950159,\"name\":\"Berlin\",\"cod\":200}").getBytes(StandardCharsets.UTF_8);
    static final String KEY = "0123456789abcdef0123456789abcdef";

    private BridgeBench() {
    }

    public static void main(String[] args) throws Exception {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        Server http = new Server();
        ServerConnector connector = new ServerConnector(http);
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        ConnectionStatistics httpBytes = new ConnectionStatistics();
        connector.addBean(httpBytes);
        http.addConnector(connector);
        http.setHandler(new Handler.Abstract.NonBlocking() {
            @Override
            public boolean handle(org.eclipse.jetty.server.Request request, org.eclipse.jetty.server.Response response,
                                  Callback callback) {
                response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
                response.write(true, ByteBuffer.wrap(WEATHER), callback);
                return true;
            }
        });
        http.start();
        int port = connector.getLocalPort();
        Path dir = Files.createTempDirectory("bridge-bench");
        Files.writeString(dir.resolve("weather.yaml"), "openapi: 3.0.3\ninfo: {title: w, version: '1'}\n"
                + "servers: [{url: 'http://127.0.0.1:" + port + "/data/2.5'}]\nsecurity: [{appid: []}]\n"
                + "paths:\n  /weather:\n    get:\n      operationId: w\n      tags: [weather]\n      parameters:\n"
                + "        - {name: q, in: query, required: true, schema: {type: string}}\n"
                + "      responses:\n        '200':\n          description: ok\n          content:\n"
                + "            application/json: {schema: {type: object}}\n"
                + "components:\n  securitySchemes:\n    appid: {type: apiKey, in: query, name: appid}\n");
        ResourceBridge bridge = PeerLinks.resourceBridge().coap(new InetSocketAddress("127.0.0.1", 0)).descriptions(dir)
                .secret("weather.appid", KEY).start().toCompletableFuture().join();
        HttpClient direct = new HttpClient();
        direct.start();
        // Californium keeps a message ID in use for EXCHANGE_LIFETIME (247 s) per peer, so one client
        // endpoint runs out after 65,536 requests; a pool of endpoints (distinct ports, distinct peers
        // for the bridge) spreads the IDs.
        CoapEndpoint[] pool = new CoapEndpoint[64];
        for (int i = 0; i < pool.length; i++) {
            pool[i] = new CoapEndpoint.Builder().setConfiguration(CoapResourceBridge.configuration())
                    .setInetSocketAddress(new InetSocketAddress("127.0.0.1", 0)).build();
            pool[i].start();
        }
        CoapEndpoint client = new CoapEndpoint.Builder().setConfiguration(CoapResourceBridge.configuration())
                .setInetSocketAddress(new InetSocketAddress("127.0.0.1", 0)).build();
        WireCounter wire = new WireCounter();
        // Post-process interceptors see every message once, after encoding (sent) or as decoded (received).
        client.addPostProcessInterceptor(wire);
        client.start();
        CoapClient[] clients = new CoapClient[pool.length];
        for (int i = 0; i < pool.length; i++) {
            clients[i] = new CoapClient(coapUriOf(bridge)).setEndpoint(pool[i]).setTimeout(10_000L);
        }
        AtomicLong next = new AtomicLong();
        String coapUri = coapUriOf(bridge);
        String httpUri = "http://127.0.0.1:" + port + "/data/2.5/weather?q=Berlin&appid=" + KEY;
        System.out.printf("machine: %d cores, %s %s, JDK %s%n", Runtime.getRuntime().availableProcessors(),
                System.getProperty("os.name"), System.getProperty("os.arch"), System.getProperty("java.version"));

        // Warm-up: both paths, so the JIT has compiled both before anything is timed.
        CoapClient coap = new CoapClient(coapUri).setEndpoint(client).setTimeout(10_000L);
        long warmEnd = System.nanoTime() + TimeUnit.SECONDS.toNanos(Math.max(5, seconds / 2));
        while (System.nanoTime() < warmEnd) {
            check(clients[(int) (next.getAndIncrement() % clients.length)].get());
            direct.GET(httpUri);
        }

        // 1. Latency, interleaved in blocks of 100 so drift on a shared machine hits both alike.
        List<Long> bridged = new ArrayList<>();
        List<Long> plain = new ArrayList<>();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < end) {
            for (int i = 0; i < 100; i++) {
                CoapClient c = clients[(int) (next.getAndIncrement() % clients.length)];
                long t0 = System.nanoTime();
                check(c.get());
                bridged.add(System.nanoTime() - t0);
            }
            for (int i = 0; i < 100; i++) {
                long t0 = System.nanoTime();
                ContentResponse r = direct.GET(httpUri);
                if (r.getStatus() != 200) {
                    throw new IllegalStateException("direct HTTP answered " + r.getStatus());
                }
                plain.add(System.nanoTime() - t0);
            }
        }
        long bp50 = pct(bridged, 50);
        long hp50 = pct(plain, 50);
        System.out.printf("latency bridged GET: n=%d p50=%.3f ms p90=%.3f ms p99=%.3f ms%n", bridged.size(), ms(bp50),
                ms(pct(bridged, 90)), ms(pct(bridged, 99)));
        System.out.printf("latency direct HTTP: n=%d p50=%.3f ms p90=%.3f ms p99=%.3f ms%n", plain.size(), ms(hp50),
                ms(pct(plain, 90)), ms(pct(plain, 99)));
        System.out.printf("added latency p50: %.3f ms%n", ms(bp50 - hp50));

        // 2. Throughput: 64 bridged requests outstanding, CON GETs from one client endpoint.
        for (int outstanding : new int[] {16, 64}) {
            Semaphore window = new Semaphore(outstanding);
            AtomicLong done = new AtomicLong();
            AtomicLong failed = new AtomicLong();
            long t0 = System.nanoTime();
            long stop = t0 + TimeUnit.SECONDS.toNanos(seconds);
            while (System.nanoTime() < stop) {
                window.acquire();
                clients[(int) (next.getAndIncrement() % clients.length)].get(new CoapHandler() {
                    @Override
                    public void onLoad(CoapResponse response) {
                        (response.getCode() == CoAP.ResponseCode.CONTENT ? done : failed).incrementAndGet();
                        window.release();
                    }

                    @Override
                    public void onError() {
                        failed.incrementAndGet();
                        window.release();
                    }
                });
            }
            window.acquire(outstanding);
            double elapsed = (System.nanoTime() - t0) / 1e9;
            System.out.printf("throughput bridged (%d outstanding): %.0f requests/s (%d ok, %d failed)%n", outstanding,
                    done.get() / elapsed, done.get(), failed.get());
        }
        // Direct HTTP throughput with the same window, the baseline.
        {
            Semaphore window = new Semaphore(64);
            AtomicLong done = new AtomicLong();
            long t0 = System.nanoTime();
            long stop = t0 + TimeUnit.SECONDS.toNanos(seconds);
            while (System.nanoTime() < stop) {
                window.acquire();
                direct.newRequest(httpUri).send(result -> {
                    if (result.isSucceeded()) {
                        done.incrementAndGet();
                    }
                    window.release();
                });
            }
            window.acquire(64);
            System.out.printf("throughput direct HTTP (64 outstanding): %.0f requests/s%n",
                    done.get() / ((System.nanoTime() - t0) / 1e9));
        }

        // 4. Bytes on the wire for one weather request (JSON, then CBOR as asked), and direct HTTP.
        for (Integer accept : new Integer[] {null, MediaTypeRegistry.APPLICATION_CBOR}) {
            wire.reset();
            Request get = Request.newGet();
            get.setURI(coapUri);
            if (accept != null) {
                get.getOptions().setAccept(accept);
            }
            check(coap.advanced(get));
            System.out.printf("wire bridged (%s): request %d B in %d datagram(s), response %d B in %d datagram(s); "
                            + "+28 B IPv4/UDP headers per datagram%n", accept == null ? "JSON" : "CBOR",
                    wire.sentBytes.get(), wire.sent.get(), wire.receivedBytes.get(), wire.received.get());
        }
        long rx0 = httpBytes.getReceivedBytes();
        long tx0 = httpBytes.getSentBytes();
        HttpClient fresh = new HttpClient();
        fresh.start();
        fresh.GET(httpUri);
        fresh.stop();
        Thread.sleep(200);
        System.out.printf("wire direct HTTP/1.1 (Jetty client): request %d B, response %d B (TCP/IP headers and "
                + "handshake not counted)%n", httpBytes.getReceivedBytes() - rx0, httpBytes.getSentBytes() - tx0);

        // 3. Directory of 10,000 endpoints; filtered resource lookup over CoAP.
        for (int i = 0; i < 10_000; i++) {
            String ep = "node-" + i;
            List<ResourceLink> links = List.of(
                    ResourceLink.builder("/temp").resourceType(i % 10 == 0 ? "oic.r.temperature" : "temperature-c")
                            .contentFormat(50).build(),
                    ResourceLink.builder("/led").resourceType("oic.r.switch.binary").build(),
                    ResourceLink.builder("/hum").resourceType("humidity").build());
            bridge.register(new RegistrationRequest(ep, Optional.of("floor" + (i % 20)),
                    Optional.of(java.net.URI.create("coap://10.0." + (i / 250) + "." + (i % 250) + ":5683")),
                    Optional.empty(), Duration.ofHours(1), java.util.Map.of(), links));
        }
        bridge.lookupEndpoints(LookupQuery.all().page(0, 1)).toCompletableFuture().join();
        String[] queries = {"rt=oic.r.temperature&d=floor10&count=10", "ep=node-4711", "rt=humidity&page=3&count=10",
            "rt=oic.r.temp*&et=none"};
        for (String q : queries) {
            CoapClient[] lookups = new CoapClient[pool.length];
            for (int i = 0; i < pool.length; i++) {
                lookups[i] = new CoapClient("coap://127.0.0.1:" + bridge.endpoint().port() + "/rd-lookup/res?" + q)
                        .setEndpoint(pool[i]).setTimeout(10_000L);
            }
            for (int i = 0; i < 200; i++) {
                check(lookups[i % lookups.length].get());
            }
            List<Long> times = new ArrayList<>();
            int found = 0;
            for (int i = 0; i < 1000; i++) {
                CoapClient lookup = lookups[i % lookups.length];
                long t0 = System.nanoTime();
                CoapResponse r = lookup.get();
                times.add(System.nanoTime() - t0);
                check(r);
                found = r.getResponseText().isEmpty() ? 0 : r.getResponseText().split(",<").length;
            }
            System.out.printf("lookup 10,000 endpoints '%s': %d links, p50=%.3f ms p90=%.3f ms p99=%.3f ms (CoAP round trip)%n",
                    q, found, ms(pct(times, 50)), ms(pct(times, 90)), ms(pct(times, 99)));
        }
        // The same kind of lookup through the Java API: the directory scan without the network.
        LookupQuery apiQuery = LookupQuery.all().where("rt", "oic.r.temperature").where("d", "floor10").page(0, 10);
        for (int i = 0; i < 200; i++) {
            bridge.lookupResources(apiQuery).toCompletableFuture().join();
        }
        List<Long> apiTimes = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            long t0 = System.nanoTime();
            bridge.lookupResources(apiQuery).toCompletableFuture().join();
            apiTimes.add(System.nanoTime() - t0);
        }
        System.out.printf("lookup 10,000 endpoints via the Java API (rt+d, 10 per page): p50=%.3f ms p90=%.3f ms%n",
                ms(pct(apiTimes, 50)), ms(pct(apiTimes, 90)));

        client.destroy();
        for (CoapEndpoint e : pool) {
            e.destroy();
        }
        direct.stop();
        bridge.close();
        http.stop();
    }

    private static String coapUriOf(ResourceBridge bridge) {
        return "coap://127.0.0.1:" + bridge.endpoint().port() + "/ws/weather/w?q=Berlin";
    }

    private static void check(CoapResponse r) {
        if (r == null || !r.isSuccess()) {
            throw new IllegalStateException("bridged request failed: " + (r == null ? "timeout" : r.getCode()));
        }
    }

    private static long pct(List<Long> samples, int p) {
        long[] a = samples.stream().mapToLong(Long::longValue).toArray();
        Arrays.sort(a);
        return a[Math.min(a.length - 1, (int) Math.ceil(p / 100.0 * a.length) - 1)];
    }

    private static double ms(long nanos) {
        return nanos / 1e6;
    }

    /** Counts CoAP bytes in each direction at the client endpoint (UDP payloads). */
    static final class WireCounter implements MessageInterceptor {
        final AtomicLong sentBytes = new AtomicLong();
        final AtomicLong receivedBytes = new AtomicLong();
        final AtomicLong sent = new AtomicLong();
        final AtomicLong received = new AtomicLong();

        void reset() {
            sentBytes.set(0);
            receivedBytes.set(0);
            sent.set(0);
            received.set(0);
        }

        private static void count(byte[] bytes, AtomicLong total, AtomicLong n) {
            if (bytes != null) {
                total.addAndGet(bytes.length);
                n.incrementAndGet();
            }
        }

        @Override
        public void sendRequest(Request request) {
            count(request.getBytes(), sentBytes, sent);
        }

        @Override
        public void sendResponse(Response response) {
            count(response.getBytes(), sentBytes, sent);
        }

        @Override
        public void sendEmptyMessage(EmptyMessage message) {
            count(message.getBytes(), sentBytes, sent);
        }

        @Override
        public void receiveRequest(Request request) {
            count(request.getBytes(), receivedBytes, received);
        }

        @Override
        public void receiveResponse(Response response) {
            count(response.getBytes(), receivedBytes, received);
        }

        @Override
        public void receiveEmptyMessage(EmptyMessage message) {
            count(message.getBytes(), receivedBytes, received);
        }
    }
}
