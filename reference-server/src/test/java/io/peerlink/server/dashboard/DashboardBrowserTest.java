package io.peerlink.server.dashboard;

import io.peerlink.Device;
import io.peerlink.DeviceId;
import io.peerlink.PathKind;
import io.peerlink.PeerLink;
import io.peerlink.PeerLinks;
import io.peerlink.Rendezvous;
import io.peerlink.protocol.identity.DeviceIdentity;
import io.peerlink.server.ReferenceServer;
import io.peerlink.server.ServerConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.io.File;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The dashboard in a real headless chromium (Debian {@code chromium} + {@code chromium-driver},
 * driven by Selenium): the page refuses to show anything without the operator token, and with it
 * shows two real devices, their network, the link between them with its path kind and traffic
 * as the devices report it, and a refused stranger, all pushed live.
 */
class DashboardBrowserTest {
    private static final String TOKEN = "dashboard-operator-token-" + System.nanoTime();
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;
    private final List<AutoCloseable> toClose = new ArrayList<>();
    private final HttpClient http = HttpClient.newHttpClient();
    private ReferenceServer server;
    private WebDriver browser;

    @BeforeEach
    void requireChromium() {
        if (!Files.isExecutable(CHROMIUM) || !Files.isExecutable(CHROMEDRIVER)) {
            fail("the dashboard test needs Debian's chromium and chromium-driver (" + CHROMIUM + ", " + CHROMEDRIVER
                    + "): apt-get install chromium chromium-driver");
        }
    }

    @AfterEach
    void closeAll() throws Exception {
        if (browser != null) {
            browser.quit();
        }
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    private WebDriver chromium() throws Exception {
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        // Running as root needs --no-sandbox; the rest keeps chromium from calling anywhere but the test server.
        options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--user-data-dir=" + Files.createTempDirectory(dir, "chromium-profile"));
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(new File(CHROMEDRIVER.toString()))
                .usingAnyFreePort().build();
        ChromeDriver driver = new ChromeDriver(service, options);
        driver.manage().timeouts().pageLoadTimeout(WAIT);
        return driver;
    }

    private Device device(String name) throws Exception {
        Device d = PeerLinks.device().identity(dir.resolve(name + ".key")).rendezvous(server.controlUri())
                .stunServer(server.stunAddress()).udp(new InetSocketAddress("127.0.0.1", 0)).connectTimeout(Duration.ofSeconds(5)).build();
        toClose.add(d);
        d.rendezvous().registered().toCompletableFuture().get(10, TimeUnit.SECONDS);
        assertEquals(Rendezvous.State.REGISTERED, d.rendezvous().state());
        return d;
    }

    private int status(String path, String authorization) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(server.dashboardUri().resolve(path)).timeout(Duration.ofSeconds(10));
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        // The event stream never ends: only the status line matters here.
        return http.sendAsync(b.build(), HttpResponse.BodyHandlers.discarding()).get(10, TimeUnit.SECONDS).statusCode();
    }

    @Test
    void showsDevicesTheirLinkAndRefusalsLiveOnlyToTheOperator() throws Exception {
        DeviceId a = DeviceIdentity.loadOrCreate(dir.resolve("alice.key")).id();
        DeviceId b = DeviceIdentity.loadOrCreate(dir.resolve("bob.key")).id();
        Path allowList = dir.resolve("allow-list");
        Files.writeString(allowList, a + " plant-a\n" + b + " plant-a\n");
        server = ReferenceServer.start(ServerConfig.builder().bindHost("127.0.0.1").httpPort(0).stunPort(0).coapPort(-1)
                .allowListFile(allowList).statusToken(TOKEN).build());
        toClose.add(server);
        URI page = server.dashboardUri();

        // Without the credential: no data over HTTP, whatever the path.
        assertEquals(401, status("snapshot", null));
        assertEquals(401, status("events", null));
        assertEquals(401, status("snapshot", "Bearer not-the-operator-token"));
        assertEquals(200, status("snapshot", "Bearer " + TOKEN));

        browser = chromium();
        // The page re-renders its tables on every pushed snapshot (once a second): an element found a
        // moment ago may be replaced before it is read, so a wait finds it again instead of failing.
        WebDriverWait wait = new WebDriverWait(browser, WAIT);
        wait.ignoring(org.openqa.selenium.StaleElementReferenceException.class);
        browser.get(page.toString());
        // The page asks for the token and shows no data.
        wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("login")));
        assertFalse(browser.findElement(By.id("app")).isDisplayed(), "the dashboard stays hidden without the token");
        browser.findElement(By.id("token")).sendKeys("wrong-token-0123456789");
        browser.findElement(By.id("login-button")).click();
        wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("login-error"), "Wrong operator token"));
        assertFalse(browser.findElement(By.id("app")).isDisplayed());
        assertTrue(browser.findElements(By.cssSelector("#devices tbody tr")).isEmpty());
        // The page's own event stream is refused too (a fetch from the page, so the browser's cookies apply).
        Object streamStatus = ((org.openqa.selenium.JavascriptExecutor) browser).executeAsyncScript(
                "const done = arguments[arguments.length - 1]; fetch('events').then(r => done(r.status), e => done(String(e)));");
        assertEquals(401L, streamStatus);

        // With the token.
        browser.findElement(By.id("token")).clear();
        browser.findElement(By.id("token")).sendKeys(TOKEN);
        browser.findElement(By.id("login-button")).click();
        wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("app")));
        wait.until(ExpectedConditions.textToBe(By.id("status"), "live"));
        assertEquals("0", browser.findElement(By.id("devices-online")).getText());

        // Two devices come online: they appear without reloading the page.
        Device alice = device("alice");
        Device bob = device("bob");
        wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("#devices tr[data-device='" + a + "']")));
        wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("#devices tr[data-device='" + b + "']")));
        wait.until(ExpectedConditions.textToBe(By.id("devices-online"), "2"));
        WebElement network = browser.findElement(By.cssSelector("#networks tr[data-network='plant-a']"));
        assertTrue(network.getText().contains("2"), network.getText());

        // They link and exchange data: the link appears with its path kind and traffic, reported by both ends.
        CompletableFuture<Integer> received = new CompletableFuture<>();
        bob.onIncoming(request -> request.accept().thenAccept(link -> link.channel().onMessage((m, how) -> received.complete(m.remaining()))));
        PeerLink link = alice.connect(b).toCompletableFuture().get(15, TimeUnit.SECONDS);
        assertEquals(PathKind.DIRECT_PRIVATE, link.path().kind());
        link.channel().send(ByteBuffer.wrap(new byte[50_000])).toCompletableFuture().get(15, TimeUnit.SECONDS);
        assertEquals(50_000, received.get(15, TimeUnit.SECONDS));
        String first = a.value().compareTo(b.value()) < 0 ? a.value() : b.value();
        String second = first.equals(a.value()) ? b.value() : a.value();
        By linkRow = By.cssSelector("#links tr[data-a='" + first + "'][data-b='" + second + "'][data-path='DIRECT_PRIVATE']");
        wait.until(ExpectedConditions.presenceOfElementLocated(linkRow));
        wait.until(d -> d.findElement(linkRow).getText().contains("both"));
        // Traffic counters refresh with the devices' periodic report (every 10 s while they change).
        wait.until(d -> d.findElement(linkRow).getText().matches(".*\\b(4[89]|5[0-9])\\.\\d KiB.*"));
        assertEquals("1", browser.findElement(By.id("introductions")).getText());
        // The same reports feed the link gauge of /metrics (counted once per pair).
        String metrics = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.controlUri().getPort() + "/metrics"))
                .header("Authorization", "Bearer " + TOKEN).build(), HttpResponse.BodyHandlers.ofString()).body();
        assertTrue(metrics.matches("(?s).*\\npeerlink_links\\{path=\"DIRECT_PRIVATE\"} 1\\.0\\n.*"), metrics);
        assertTrue(metrics.matches("(?s).*\\npeerlink_links\\{path=\"RELAY\"} 0\\.0\\n.*"), metrics);

        // A stranger is refused; the refusal shows with its reason.
        Device stranger = PeerLinks.device().identity(dir.resolve("stranger.key")).rendezvous(server.controlUri())
                .udp(new InetSocketAddress("127.0.0.1", 0)).build();
        toClose.add(stranger);
        DeviceId strangerId = DeviceIdentity.loadOrCreate(dir.resolve("stranger.key")).id();
        wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("#refusals tr[data-reason='DENIED']")));
        WebElement refusal = browser.findElement(By.cssSelector("#refusals tr[data-reason='DENIED']"));
        assertTrue(refusal.getText().contains(strangerId.value().substring(0, 8)), refusal.getText());

        // The link closes: it leaves the page.
        link.close().toCompletableFuture().get(10, TimeUnit.SECONDS);
        wait.until(ExpectedConditions.numberOfElementsToBe(By.cssSelector("#links tbody tr"), 0));

        // Logging out ends access: the stream and snapshot answer 401 to this browser again.
        browser.findElement(By.id("logout")).click();
        wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("login")));
        Object after = ((org.openqa.selenium.JavascriptExecutor) browser).executeAsyncScript(
                "const done = arguments[arguments.length - 1]; fetch('snapshot').then(r => done(r.status), e => done(String(e)));");
        assertEquals(401L, after);
    }

    @Test
    void withoutAnOperatorTokenThereIsNoDashboard() throws Exception {
        server = ReferenceServer.start(ServerConfig.builder().bindHost("127.0.0.1").httpPort(0).stunPort(0).coapPort(-1).open(true).build());
        toClose.add(server);
        assertEquals(null, server.dashboardUri());
        URI page = URI.create("http://127.0.0.1:" + server.controlUri().getPort() + "/dashboard/");
        assertEquals(404, http.send(HttpRequest.newBuilder(page).build(), HttpResponse.BodyHandlers.discarding()).statusCode());
        assertEquals(404, http.send(HttpRequest.newBuilder(page.resolve("snapshot")).header("Authorization", "Bearer " + TOKEN).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode());
    }
}
