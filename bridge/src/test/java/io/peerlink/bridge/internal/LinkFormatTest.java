package io.peerlink.bridge.internal;

import io.peerlink.ResourceLink;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LinkFormatTest {

    @Test
    void parsesTypedAndExtensionAttributes() {
        List<ResourceLink> links = LinkFormat.parse(
                "</sensors/temp>;rt=\"temperature-c k\";if=sensor;ct=\"50 60\";sz=12;title=\"T \\\"1\\\"\";obs;x=1,\n"
                        + "<coap://[2001:db8::1]/led>;anchor=\"coap://[2001:db8::1]\";rel=\"alternate\"");
        assertEquals(2, links.size());
        ResourceLink temp = links.get(0);
        assertEquals("/sensors/temp", temp.target());
        assertEquals(List.of("temperature-c", "k"), temp.resourceTypes());
        assertEquals(List.of("sensor"), temp.interfaces());
        assertEquals(List.of(50, 60), temp.contentFormats());
        assertEquals(12, temp.maxSize().getAsLong());
        assertEquals("T \"1\"", temp.title().orElseThrow());
        assertTrue(temp.observable());
        assertEquals(List.of("1"), temp.extensions().get("x"));
        assertEquals("coap://[2001:db8::1]", links.get(1).anchor().orElseThrow());
    }

    @Test
    void rejectsMalformedDocumentsWithTheirOffset() {
        LinkFormatException e = assertThrows(LinkFormatException.class, () -> LinkFormat.parse("</a>;rt=x;</b>"));
        assertEquals(10, e.offset());
        assertThrows(LinkFormatException.class, () -> LinkFormat.parse("</a"));
        assertThrows(LinkFormatException.class, () -> LinkFormat.parse("</a>;ct=abc"));
        assertThrows(LinkFormatException.class, () -> LinkFormat.parse("</a b>"));
        assertThrows(LinkFormatException.class, () -> LinkFormat.parse("</a>,"));
        assertThrows(LinkFormatException.class, () -> LinkFormat.parse("<>"));
        assertThrows(LinkFormatException.class, () -> LinkFormat.parse("</a>;=1"));
        assertThrows(LinkFormatException.class, () -> LinkFormat.parse("</a>" + ",</a>".repeat(LinkFormat.MAX_LINKS)));
        assertThrows(LinkFormatException.class, () -> LinkFormat.parse("x".repeat(LinkFormat.MAX_DOCUMENT + 1)));
    }

    @Property(tries = 3000)
    void arbitraryInputEitherParsesOrFailsPrecisely(@ForAll("hostile") String input) {
        try {
            List<ResourceLink> links = LinkFormat.parse(input);
            // What parsed must survive a round trip unchanged.
            assertEquals(links, LinkFormat.parse(LinkFormat.format(links)));
        } catch (LinkFormatException expected) {
            assertTrue(expected.offset() >= 0 && expected.offset() <= input.length());
        }
    }

    @Property(tries = 1000)
    void formatThenParseIsIdentity(@ForAll("links") List<ResourceLink> links) {
        assertEquals(links, LinkFormat.parse(LinkFormat.format(links)));
    }

    @Provide
    Arbitrary<String> hostile() {
        Arbitrary<String> noise = Arbitraries.strings().withChars("<>;,=\"\\/ a*rtifc0123\u0001\u00e9:[]").ofMaxLength(60);
        Arbitrary<String> nearValid = Arbitraries.of("</a>", "</b>;rt=\"x y\"", ";obs", ";ct=40", ",", "\"", "<",
                ";anchor=\"coap://h\"", ";sz=99999999999", ";title=\"q\\\"\"", " ", "%").list().ofMaxSize(8)
                .map(parts -> String.join("", parts));
        return Arbitraries.oneOf(noise, nearValid);
    }

    @Provide
    Arbitrary<List<ResourceLink>> links() {
        Arbitrary<String> token = Arbitraries.strings().withCharRange('a', 'z').ofMinLength(1).ofMaxLength(6);
        Arbitrary<ResourceLink> link = Combinators.combine(token, token.list().ofMaxSize(3),
                Arbitraries.integers().between(0, 65535).list().ofMaxSize(2),
                Arbitraries.strings().ofMaxLength(8).injectNull(0.5), Arbitraries.of(true, false))
                .as((path, rts, cts, title, obs) -> {
                    ResourceLink.Builder b = ResourceLink.builder("/" + path);
                    rts.forEach(b::resourceType);
                    cts.forEach(b::contentFormat);
                    if (title != null && title.chars().noneMatch(c -> c < 0x20 || c == 0x7F)) {
                        b.title(title);
                    }
                    return b.observable(obs).build();
                });
        return link.list().ofMaxSize(5);
    }
}
