package io.peerlink.transport.udp;

import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.StringLength;

import java.net.Inet4Address;
import java.net.InetAddress;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The endpoint host parser: exact for dotted quads, null (never an exception, never DNS) otherwise. */
class IpLiteralTest {

    @Property
    void everyDottedQuadParsesToItsOctets(@ForAll @IntRange(max = 255) int a, @ForAll @IntRange(max = 255) int b,
                                          @ForAll @IntRange(max = 255) int c, @ForAll @IntRange(max = 255) int d) {
        InetAddress parsed = IpLiteral.parse(a + "." + b + "." + c + "." + d);
        assertTrue(parsed instanceof Inet4Address);
        assertArrayEquals(new byte[] {(byte) a, (byte) b, (byte) c, (byte) d}, parsed.getAddress());
    }

    @Property
    void anOctetAbove255IsRejected(@ForAll @IntRange(min = 256, max = 100_000) int big, @ForAll @IntRange(max = 3) int position) {
        String[] parts = {"1", "2", "3", "4"};
        parts[position] = Integer.toString(big);
        assertNull(IpLiteral.parse(String.join(".", parts)));
    }

    /** Arbitrary text without ':' is either a strict dotted quad that prints back the same, or null. */
    @Property(tries = 2000)
    void arbitraryTextNeverThrowsAndOnlyQuadsParse(@ForAll @StringLength(max = 20) String text) {
        if (text.indexOf(':') >= 0) {
            return; // IPv6 literal syntax is the JDK's parser's job, covered below
        }
        InetAddress parsed = IpLiteral.parse(text);
        if (parsed != null) {
            String canonical = parsed.getHostAddress();
            assertEquals(canonical.replaceAll("(^|\\.)0+(\\d)", "$1$2"), text.replaceAll("(^|\\.)0+(\\d)", "$1$2"),
                    "only a dotted quad may parse: '" + text + "'");
        }
    }

    @Example
    void hostNamesAndMalformedLiteralsAreRejected() {
        for (String bad : new String[] {"", ".", "1.2.3", "1.2.3.4.5", "1..2.3", "1.2.3.", ".1.2.3", "+1.2.3.4", "1.2.3.4 ",
                "localhost", "example.invalid", "0x7f.0.0.1", "1:2:3", "[::1]", "::g", "g:1", "host:1", "::1%", "1234.1.1.1"}) {
            assertNull(IpLiteral.parse(bad), "'" + bad + "' must not parse");
        }
    }

    @Example
    void ipv6LiteralsParse() {
        assertEquals("0:0:0:0:0:0:0:1", IpLiteral.parse("::1").getHostAddress());
        assertEquals("2001:db8:0:0:0:0:0:1", IpLiteral.parse("2001:db8::1").getHostAddress());
    }
}
