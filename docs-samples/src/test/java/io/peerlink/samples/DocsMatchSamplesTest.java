package io.peerlink.samples;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The documents quote the samples exactly: every {@code java} block of README.md and
 * docs/embedding.md follows an HTML comment {@code <!-- sample: NAME -->} and equals the region
 * NAME of {@link EmbeddingSamples} (indentation removed). A java block without a marker fails too,
 * so no untested code sample can creep into those documents.
 */
class DocsMatchSamplesTest {
    private static final Path ROOT = Path.of(System.getProperty("user.dir")).getParent();
    private static final Pattern REGION = Pattern.compile("(?m)^([ \\t]*)// sample: (\\S+)\\n(.*?)^[ \\t]*// end sample$",
            Pattern.DOTALL);
    private static final Pattern BLOCK = Pattern.compile("(?m)^```java\\n(.*?)^```$", Pattern.DOTALL);
    private static final Pattern MARKER = Pattern.compile("<!-- sample: (\\S+) -->\\s*\\z");

    static Map<String, String> regions() throws IOException {
        String source = Files.readString(ROOT.resolve("docs-samples/src/test/java/io/peerlink/samples/EmbeddingSamples.java"),
                StandardCharsets.UTF_8);
        Map<String, String> regions = new LinkedHashMap<>();
        Matcher m = REGION.matcher(source);
        while (m.find()) {
            regions.put(m.group(2), dedent(m.group(3), m.group(1).length()));
        }
        return regions;
    }

    private static String dedent(String text, int indent) {
        StringBuilder out = new StringBuilder();
        for (String line : text.split("\n", -1)) {
            out.append(line.length() >= indent && line.substring(0, indent).isBlank() ? line.substring(indent) : line.strip())
                    .append('\n');
        }
        return out.toString().stripTrailing() + "\n";
    }

    private static List<String[]> blocks(String document) throws IOException {
        String text = Files.readString(ROOT.resolve(document), StandardCharsets.UTF_8);
        List<String[]> found = new ArrayList<>();
        Matcher m = BLOCK.matcher(text);
        while (m.find()) {
            Matcher marker = MARKER.matcher(text.substring(Math.max(0, m.start() - 200), m.start()));
            if (!marker.find()) {
                fail(document + ": a java block without a <!-- sample: NAME --> marker, so no test runs it:\n" + m.group(1));
            }
            found.add(new String[] {marker.group(1), m.group(1)});
        }
        return found;
    }

    @Test
    void theSamplesRegionsExist() throws IOException {
        assertEquals(List.of("receiver", "sender", "transport-options", "failure", "hosting"), List.copyOf(regions().keySet()));
    }

    @Test
    void readmeQuotesTheSamplesVerbatim() throws IOException {
        check("README.md", List.of("receiver", "sender"));
    }

    @Test
    void embeddingGuideQuotesTheSamplesVerbatim() throws IOException {
        check("docs/embedding.md", List.of("receiver", "sender", "failure", "hosting"));
    }

    private static void check(String document, List<String> expected) throws IOException {
        Map<String, String> regions = regions();
        List<String[]> blocks = blocks(document);
        assertFalse(blocks.isEmpty(), document + " has java samples");
        List<String> names = new ArrayList<>();
        for (String[] b : blocks) {
            String region = regions.get(b[0]);
            assertTrue(region != null, document + " names an unknown sample " + b[0]);
            assertEquals(region, b[1], document + ": sample '" + b[0] + "' differs from EmbeddingSamples.java");
            names.add(b[0]);
        }
        assertTrue(names.containsAll(expected), document + " quotes " + expected + ", found " + names);
    }
}
