package io.peerlink.bridge;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Runs libcoap's {@code coap-client-notls} (Debian {@code libcoap3-bin}), an independent CoAP
 * implementation, and reads back the response code, options and body. Under {@code CI=true} a
 * missing binary fails the test; elsewhere the test is skipped with a message.
 */
final class LibcoapClient {
    static final String BINARY = "coap-client-notls";
    private static final Pattern RESPONSE = Pattern.compile("^v:1 t:(ACK|CON|NON) c:(\\d\\.\\d\\d) .*?\\[ ?(.*?) ?\\]");

    private LibcoapClient() {
    }

    /**
     * The outcome of one request.
     *
     * @param code e.g. {@code 2.01}
     * @param options the options of the response as libcoap prints them
     * @param body the response body (all blocks)
     */
    record Response(String code, String options, byte[] body, String printedPayload) {
        String text() {
            return new String(body, java.nio.charset.StandardCharsets.UTF_8);
        }

        /** @return the body, or for an error response the diagnostic payload libcoap printed */
        String diagnostic() {
            return body.length > 0 ? text() : printedPayload;
        }

        List<String> locationPath() {
            List<String> out = new ArrayList<>();
            Matcher m = Pattern.compile("Location-Path:([^,\\]]+)").matcher(options);
            while (m.find()) {
                out.add(m.group(1).trim());
            }
            return out;
        }
    }

    static void requireInstalled() {
        boolean present = false;
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
            if (Files.isExecutable(Path.of(dir, BINARY))) {
                present = true;
                break;
            }
        }
        if (!present) {
            String message = BINARY + " is not installed (Debian package libcoap3-bin)";
            if ("true".equals(System.getenv("CI"))) {
                fail(message + "; CI must install it");
            }
            Assumptions.abort(message + "; skipping the libcoap interop test");
        }
    }

    /**
     * @param args coap-client arguments (method, payload, content format, URI)
     * @return the last response
     */
    static Response run(String... args) throws IOException, InterruptedException {
        requireInstalled();
        Path out = Files.createTempFile("coap-client", ".body");
        try {
            List<String> command = new ArrayList<>(List.of(BINARY, "-B", "10", "-v", "6", "-o", out.toString()));
            command.addAll(List.of(args));
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String log = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                fail("coap-client did not finish: " + log);
            }
            String code = null;
            String options = "";
            String printed = "";
            for (String line : log.split("\n")) {
                Matcher m = RESPONSE.matcher(line);
                if (m.find() && !m.group(2).equals("0.00") && Character.getNumericValue(m.group(2).charAt(0)) >= 2) {
                    code = m.group(2);
                    options = m.group(3);
                    int payload = line.indexOf(":: '");
                    printed = payload < 0 ? "" : line.substring(payload + 4, line.length() - 1);
                }
            }
            if (code == null) {
                fail("no response in coap-client output:\n" + log);
            }
            return new Response(code, options, Files.readAllBytes(out), printed);
        } finally {
            Files.deleteIfExists(out);
        }
    }
}
