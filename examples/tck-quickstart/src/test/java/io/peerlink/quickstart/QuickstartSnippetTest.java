package io.peerlink.quickstart;

import org.junit.jupiter.api.Test;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The quickstart of {@code docs/tck.md} works as written: its {@code pom.xml} and test class are
 * copied out of the page, verbatim, into a fresh project and run with Maven 3.8, which picks
 * Surefire 2.12.4 for a POM that names no version — the runner that used to report
 * "Tests run: 0, BUILD SUCCESS". The project sees our modules through a private local
 * repository (nothing is installed into the shared one) and everything else through the outer
 * build's repository.
 */
class QuickstartSnippetTest {

    private static final String VERSION = "0.1.0-SNAPSHOT";
    private static final Pattern BLOCK = Pattern.compile("<!-- quickstart:(\\S+) -->\\s*```\\w*\\n(.*?)```", Pattern.DOTALL);

    private final Path root = Path.of(System.getProperty("peerlink.root", "../..")).toAbsolutePath().normalize();
    private final Path target = Path.of("target").toAbsolutePath();

    @Test
    void quickstartRunsEveryRuleUnderMaven38DefaultSurefire() throws Exception {
        Path mvn = onPath("mvn");
        if (mvn == null) {
            if ("true".equals(System.getenv("CI"))) {
                fail("Maven 3.8 ('mvn', Debian package 'maven') is not installed; CI must install it");
            }
            assumeTrue(false, "Maven 3.8 ('mvn', Debian package 'maven') is not installed: cannot check the quickstart under Surefire 2.12.4");
        }
        Map<String, String> files = snippets(Files.readString(root.resolve("docs/tck.md")));
        assertEquals(List.of("pom.xml", "src/test/java/com/example/MyTransportVerificationTest.java"), List.copyOf(files.keySet()),
                "docs/tck.md must mark the quickstart pom.xml and test class");
        Path project = target.resolve("quickstart");
        deleteTree(project);
        for (Map.Entry<String, String> f : files.entrySet()) {
            Path file = project.resolve(f.getKey());
            Files.createDirectories(file.getParent() == null ? project : file.getParent());
            Files.writeString(file, f.getValue());
        }
        Path repository = target.resolve("quickstart-repository");
        publishOurModules(repository);
        Path settings = writeSettings(Path.of(System.getProperty("outer.repository")));

        ProcessBuilder pb = new ProcessBuilder(mvn.toString(), "-B", "-s", settings.toString(), "-Dmaven.repo.local=" + repository, "test")
                .directory(project.toFile()).redirectErrorStream(true).redirectOutput(target.resolve("quickstart.log").toFile());
        pb.environment().remove("MAVEN_OPTS");
        Process p = pb.start();
        assertTrue(p.waitFor(10, TimeUnit.MINUTES), "the quickstart build did not finish within 10 minutes");
        String log = Files.readString(target.resolve("quickstart.log"));
        String tail = log.substring(Math.max(0, log.length() - 4000));
        assertTrue(log.contains("maven-surefire-plugin:2.12.4:test"), "the check must run Surefire 2.12.4 (Maven 3.8's default); log tail:\n" + tail);
        Matcher m = Pattern.compile("Tests run: (\\d+), Failures: (\\d+), Errors: (\\d+), Skipped: (\\d+)\\s*\\n\\s*\\n\\[INFO\\] -+\\s*\\n\\[INFO\\] BUILD")
                .matcher(log);
        if (!m.find()) {
            m = Pattern.compile("Results :\\s*\\n\\s*\\n(?:.*\\n)*?Tests run: (\\d+), Failures: (\\d+), Errors: (\\d+), Skipped: (\\d+)").matcher(log);
            assertTrue(m.find(), "no Surefire summary in the quickstart build; log tail:\n" + tail);
        }
        int run = Integer.parseInt(m.group(1));
        assertTrue(run >= 40, "Surefire 2.12.4 ran only " + run + " tests of the quickstart verification; log tail:\n" + tail);
        assertEquals(0, p.exitValue(), "the quickstart build failed; log tail:\n" + tail);
        assertTrue(log.contains("BUILD SUCCESS"), tail);
    }

    /** @return relative path to content, in page order, for every block marked {@code <!-- quickstart:path -->} */
    static Map<String, String> snippets(String page) {
        Map<String, String> out = new LinkedHashMap<>();
        Matcher m = BLOCK.matcher(page);
        while (m.find()) {
            out.put(m.group(1), m.group(2));
        }
        return out;
    }

    /** Lays our built modules out as a Maven repository, so the snippet resolves them without an install. */
    private void publishOurModules(Path repository) throws IOException {
        publish(repository, "peerlink-parent", root.resolve("pom.xml"), null);
        publish(repository, "peerlink-bom", root.resolve("bom/pom.xml"), null);
        for (String[] module : new String[][] {{"peerlink-api", "api"}, {"peerlink-spi", "spi"},
            {"peerlink-transport-udp", "transports/udp"}, {"peerlink-conformance-tests", "conformance-tests"}}) {
            Path dir = root.resolve(module[1]);
            Path jar = dir.resolve("target/" + module[0] + "-" + VERSION + ".jar");
            assertTrue(Files.isRegularFile(jar), jar + " is not built: run the build through the package phase first");
            publish(repository, module[0], dir.resolve("pom.xml"), jar);
        }
    }

    private static void publish(Path repository, String artifactId, Path pom, Path jar) throws IOException {
        Path dir = repository.resolve("io/peerlink/" + artifactId + "/" + VERSION);
        Files.createDirectories(dir);
        Files.copy(pom, dir.resolve(artifactId + "-" + VERSION + ".pom"), StandardCopyOption.REPLACE_EXISTING);
        if (jar != null) {
            Files.copy(jar, dir.resolve(artifactId + "-" + VERSION + ".jar"), StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** The outer build's repository first (read-only, as a file repository), then Maven Central. */
    private Path writeSettings(Path outer) throws IOException {
        String url = outer.toUri().toString();
        String repo = "<id>outer</id><url>" + url + "</url><releases><enabled>true</enabled><checksumPolicy>ignore</checksumPolicy></releases>"
                + "<snapshots><enabled>false</enabled></snapshots>";
        String xml = "<settings><profiles><profile><id>outer</id><repositories><repository>" + repo + "</repository></repositories>"
                + "<pluginRepositories><pluginRepository>" + repo + "</pluginRepository></pluginRepositories></profile></profiles>"
                + "<activeProfiles><activeProfile>outer</activeProfile></activeProfiles></settings>\n";
        Path settings = target.resolve("quickstart-settings.xml");
        Files.writeString(settings, xml, StandardCharsets.UTF_8);
        return settings;
    }

    private static Path onPath(String command) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path candidate = Path.of(dir, command);
            if (Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        return null;
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
