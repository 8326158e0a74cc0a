package io.peerlink.core.internal.device;

import io.peerlink.Endpoint;
import io.peerlink.spi.Transport;
import io.peerlink.spi.TransportConfig;
import io.peerlink.spi.TransportProvider;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Options by name onto a provider's typed options: conversions and the errors a person reads. */
class TransportOptionMapperTest {
    enum Mode { FAST, SAFE }

    /** A value type only the provider knows how to read. */
    record Tls(String ca) {
    }

    static final TransportConfig.Option<String> NAME = new TransportConfig.Option<>("t.name", String.class, "");
    static final TransportConfig.Option<String> PASSWORD = new TransportConfig.Option<>("t.password", String.class, "");
    static final TransportConfig.Option<Integer> SIZE = new TransportConfig.Option<>("t.size", Integer.class, 1);
    static final TransportConfig.Option<Long> LIMIT = new TransportConfig.Option<>("t.limit", Long.class, 1L);
    static final TransportConfig.Option<Boolean> FLAG = new TransportConfig.Option<>("t.flag", Boolean.class, false);
    static final TransportConfig.Option<Duration> TIMEOUT = new TransportConfig.Option<>("t.timeout", Duration.class, Duration.ZERO);
    static final TransportConfig.Option<Mode> MODE = new TransportConfig.Option<>("t.mode", Mode.class, Mode.FAST);
    static final TransportConfig.Option<Tls> TLS = new TransportConfig.Option<>("t.tls", Tls.class, new Tls("system"));
    static final TransportConfig.Option<Integer> OPAQUE = new TransportConfig.Option<>("t.opaque", Integer.class, 0);

    static final Endpoint BIND = Endpoint.parse("test://host:1/me");

    /** Declares the options above except {@link #OPAQUE}; reads {@code t.tls} as {@code ca=<x>}. */
    static class Provider implements TransportProvider {
        @Override
        public String scheme() {
            return "test";
        }

        @Override
        public Transport create(TransportConfig config) {
            throw new UnsupportedOperationException("not used by the mapper");
        }

        @Override
        public List<TransportConfig.Option<?>> options() {
            return List.of(NAME, PASSWORD, SIZE, LIMIT, FLAG, TIMEOUT, MODE, TLS);
        }

        @Override
        public Object parseOption(TransportConfig.Option<?> option, String text) {
            if (option.equals(TLS) && text.startsWith("ca=")) {
                return new Tls(text.substring(3));
            }
            throw new IllegalArgumentException("expected ca=<file>");
        }
    }

    /** Declares nothing, like a provider written before options could be set by name. */
    static final class Bare implements TransportProvider {
        @Override
        public String scheme() {
            return "test";
        }

        @Override
        public Transport create(TransportConfig config) {
            throw new UnsupportedOperationException("not used by the mapper");
        }
    }

    private static TransportConfig map(Map<String, ?> options) {
        return TransportOptionMapper.config(BIND, new Provider(), options);
    }

    private static String error(TransportProvider provider, Map<String, ?> options) {
        return assertThrows(IllegalArgumentException.class, () -> TransportOptionMapper.config(BIND, provider, options)).getMessage();
    }

    @Test
    void textIsConvertedToEachCommonType() {
        TransportConfig c = map(Map.of("t.name", "  alice ", "t.size", " 4096 ", "t.limit", "-9000000000",
                "t.flag", "TRUE", "t.timeout", "30s", "t.mode", "SAFE"));
        assertEquals(BIND, c.bindEndpoint());
        assertEquals("  alice ", c.get(NAME), "text options are kept verbatim (a password may have blanks)");
        assertEquals(4096, c.get(SIZE));
        assertEquals(-9_000_000_000L, c.get(LIMIT));
        assertTrue(c.get(FLAG));
        assertEquals(Duration.ofSeconds(30), c.get(TIMEOUT));
        assertEquals(Mode.SAFE, c.get(MODE));
        assertEquals(Duration.ofMillis(500), map(Map.of("t.timeout", "500ms")).get(TIMEOUT));
        assertEquals(Duration.ofMinutes(2), map(Map.of("t.timeout", "2m")).get(TIMEOUT));
        assertEquals(Duration.ofHours(1), map(Map.of("t.timeout", "1h")).get(TIMEOUT));
        assertEquals(Duration.ofDays(3), map(Map.of("t.timeout", "3d")).get(TIMEOUT));
        assertEquals(Duration.ofMillis(1500), map(Map.of("t.timeout", "PT1.5S")).get(TIMEOUT));
        assertFalse(map(Map.of("t.flag", "false")).get(FLAG));
    }

    @Test
    void typedValuesAreUsedAsTheyAreAndIntegersWidenToLong() {
        Tls tls = new Tls("/etc/ca.pem");
        TransportConfig c = map(Map.of("t.tls", tls, "t.size", 7, "t.limit", 8, "t.timeout", Duration.ofSeconds(2), "t.mode", Mode.SAFE));
        assertSame(tls, c.get(TLS));
        assertEquals(7, c.get(SIZE));
        assertEquals(8L, c.get(LIMIT));
        assertEquals(Duration.ofSeconds(2), c.get(TIMEOUT));
        assertEquals(Mode.SAFE, c.get(MODE));
        assertEquals(9, map(Map.of("t.size", 9L)).get(SIZE), "a long that fits is an integer");
    }

    @Test
    void otherTypesAreReadByTheProvider() {
        assertEquals(new Tls("/etc/ca.pem"), map(Map.of("t.tls", "ca=/etc/ca.pem")).get(TLS));
        String message = error(new Provider(), Map.of("t.tls", "trust everyone"));
        assertTrue(message.contains("t.tls") && message.contains("'trust everyone'") && message.contains("expected ca=<file>"), message);
    }

    @Test
    void optionsNotGivenKeepTheirDefaults() {
        TransportConfig c = map(Map.of("t.size", "3"));
        assertEquals(Mode.FAST, c.get(MODE));
        assertEquals(Duration.ZERO, c.get(TIMEOUT));
    }

    @Test
    void anUnknownNameIsNamedWithTheOptionsTheProviderDeclares() {
        String message = error(new Provider(), Map.of("t.sise", "3"));
        assertTrue(message.contains("unknown option 't.sise'"), message);
        assertTrue(message.contains(Provider.class.getName()), message);
        assertTrue(message.contains("t.size") && message.contains("t.tls"), message);
        assertFalse(message.contains("t.opaque"), message);
        String bare = error(new Bare(), Map.of("t.size", "3"));
        assertTrue(bare.contains("unknown option 't.size'") && bare.contains("declares no options"), bare);
    }

    @Test
    void aBadValueNamesTheOptionTheValueAndTheFormExpected() {
        assertBad(Map.of("t.size", "lots"), "t.size", "'lots'", "decimal integer");
        assertBad(Map.of("t.size", "4294967296"), "t.size", "'4294967296'", "decimal integer");
        assertBad(Map.of("t.limit", "1e3"), "t.limit", "'1e3'", "decimal integer");
        assertBad(Map.of("t.flag", "yes"), "t.flag", "'yes'", "true or false");
        assertBad(Map.of("t.timeout", "soon"), "t.timeout", "'soon'", "30s");
        assertBad(Map.of("t.timeout", "-5s"), "t.timeout", "'-5s'", "30s");
        assertBad(Map.of("t.mode", "safe"), "t.mode", "'safe'", "FAST, SAFE");
        assertBad(Map.of("t.flag", 1), "t.flag", "takes a Boolean", "java.lang.Integer");
        assertBad(Map.of("t.size", 1L << 40), "t.size", "takes a Integer", "java.lang.Long");
        assertBad(Map.of("t.tls", 5), "t.tls", "takes a Tls", "java.lang.Integer");
    }

    @Test
    void aSecretIsNeverRepeatedInAnError() {
        TransportProvider provider = new Provider() {
            @Override
            public List<TransportConfig.Option<?>> options() {
                return List.of(new TransportConfig.Option<>("t.password", Integer.class, 0));
            }
        };
        String message = error(provider, Map.of("t.password", "hunter2-secret"));
        assertTrue(message.contains("t.password") && message.contains("hidden, 14 characters"), message);
        assertFalse(message.contains("hunter2"), message);
    }

    private static void assertBad(Map<String, ?> options, String... fragments) {
        String message = error(new Provider(), options);
        for (String f : fragments) {
            assertTrue(message.contains(f), "'" + f + "' missing in: " + message);
        }
    }
}
