package io.peerlink.bridge.internal;

import io.peerlink.ResourceLink;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Parses and writes CoRE Link Format (RFC 6690 section 2). The parser is strict about structure
 * (every link is {@code <uri>} followed by {@code ;param[=value]} pairs, links separated by
 * commas) and bounded (document length and link count), because its input comes from the network.
 * It tolerates white space after a comma, which several clients emit between links.
 */
public final class LinkFormat {
    /** Largest document accepted, in characters. */
    public static final int MAX_DOCUMENT = 64 * 1024;
    /** Most links accepted in one document. */
    public static final int MAX_LINKS = 1024;
    /** Most parameters accepted on one link. */
    public static final int MAX_PARAMS = 64;

    private final String text;
    private int pos;

    private LinkFormat(String text) {
        this.text = text;
    }

    /**
     * @param document a link-format document; empty means no links
     * @return the links in document order
     * @throws LinkFormatException if the document is malformed or too large
     */
    public static List<ResourceLink> parse(String document) {
        if (document.length() > MAX_DOCUMENT) {
            throw new LinkFormatException("document of " + document.length() + " characters exceeds " + MAX_DOCUMENT, 0);
        }
        return new LinkFormat(document).links();
    }

    private List<ResourceLink> links() {
        List<ResourceLink> links = new ArrayList<>();
        if (text.isEmpty()) {
            return links;
        }
        while (true) {
            if (links.size() == MAX_LINKS) {
                throw new LinkFormatException("more than " + MAX_LINKS + " links", pos);
            }
            links.add(link());
            if (pos == text.length()) {
                return links;
            }
            expect(',');
            while (pos < text.length() && " \t\r\n".indexOf(text.charAt(pos)) >= 0) {
                pos++;
            }
        }
    }

    private ResourceLink link() {
        int start = pos;
        expect('<');
        int end = text.indexOf('>', pos);
        if (end < 0) {
            throw new LinkFormatException("unterminated '<' (no '>')", start);
        }
        String target = text.substring(pos, end);
        checkUriReference(target, pos);
        pos = end + 1;
        ResourceLink.Builder builder = ResourceLink.builder(target);
        int params = 0;
        while (pos < text.length() && text.charAt(pos) == ';') {
            pos++;
            if (++params > MAX_PARAMS) {
                throw new LinkFormatException("more than " + MAX_PARAMS + " parameters on one link", pos);
            }
            int nameStart = pos;
            String name = parmname();
            String value = "";
            if (pos < text.length() && text.charAt(pos) == '=') {
                pos++;
                value = pos < text.length() && text.charAt(pos) == '"' ? quotedString() : ptoken();
            }
            try {
                if (name.equals("anchor")) {
                    checkUriReference(value, nameStart);
                }
                builder.attribute(name, value);
            } catch (LinkFormatException e) {
                throw e;
            } catch (IllegalArgumentException e) {
                throw new LinkFormatException("bad parameter '" + name + "': " + e.getMessage(), nameStart);
            }
        }
        try {
            return builder.build();
        } catch (IllegalArgumentException e) {
            throw new LinkFormatException("bad link: " + e.getMessage(), start);
        }
    }

    private String parmname() {
        int start = pos;
        while (pos < text.length() && isTokenChar(text.charAt(pos))) {
            pos++;
        }
        if (pos == start) {
            throw new LinkFormatException("expected a parameter name", pos);
        }
        // RFC 6690 names its extended-value forms with a trailing '*' (title*).
        if (pos < text.length() && text.charAt(pos) == '*') {
            pos++;
        }
        return text.substring(start, pos);
    }

    private String ptoken() {
        int start = pos;
        while (pos < text.length() && isPtokenChar(text.charAt(pos))) {
            pos++;
        }
        if (pos == start) {
            throw new LinkFormatException("expected a value after '='", pos);
        }
        return text.substring(start, pos);
    }

    private String quotedString() {
        int start = pos;
        pos++; // opening quote
        StringBuilder value = new StringBuilder();
        while (pos < text.length()) {
            char c = text.charAt(pos++);
            if (c == '"') {
                return value.toString();
            }
            if (c == '\\') {
                if (pos == text.length()) {
                    break;
                }
                c = text.charAt(pos++);
            } else if (c < 0x20 && c != '\t' || c == 0x7F) {
                throw new LinkFormatException("control character in quoted string", pos - 1);
            }
            value.append(c);
        }
        throw new LinkFormatException("unterminated quoted string", start);
    }

    private void expect(char c) {
        if (pos >= text.length()) {
            throw new LinkFormatException("expected '" + c + "' but the document ended", pos);
        }
        if (text.charAt(pos) != c) {
            throw new LinkFormatException("expected '" + c + "' but found '" + printable(text.charAt(pos)) + "'", pos);
        }
        pos++;
    }

    private static void checkUriReference(String ref, int offset) {
        if (ref.isEmpty()) {
            throw new LinkFormatException("empty URI reference", offset);
        }
        for (int i = 0; i < ref.length(); i++) {
            char c = ref.charAt(i);
            if (c <= 0x20 || c >= 0x7F || c == '<' || c == '"') {
                throw new LinkFormatException("character '" + printable(c) + "' not allowed in a URI reference",
                        offset + i);
            }
        }
        try {
            new URI(ref);
        } catch (URISyntaxException e) {
            throw new LinkFormatException("not a URI reference: " + e.getReason(), offset + Math.max(0, e.getIndex()));
        }
    }

    private static String printable(char c) {
        return c >= 0x20 && c < 0x7F ? String.valueOf(c) : String.format("\\u%04x", (int) c);
    }

    static boolean isTokenChar(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                || "!#$&+-.^_`|~".indexOf(c) >= 0;
    }

    private static boolean isPtokenChar(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                || "!#$%&'()*+-./:<=>?@[]^_`{|}~".indexOf(c) >= 0;
    }

    /**
     * @param links links to write
     * @return the links as one link-format document
     */
    public static String format(List<ResourceLink> links) {
        StringBuilder out = new StringBuilder(links.size() * 48);
        for (ResourceLink link : links) {
            if (out.length() > 0) {
                out.append(',');
            }
            append(out, link);
        }
        return out.toString();
    }

    /**
     * @param out where to write
     * @param link one link
     */
    public static void append(StringBuilder out, ResourceLink link) {
        out.append('<').append(link.target()).append('>');
        link.anchor().ifPresent(a -> quoted(out, "anchor", a));
        list(out, "rel", link.relation());
        list(out, "rt", link.resourceTypes());
        list(out, "if", link.interfaces());
        if (link.contentFormats().size() == 1) {
            out.append(";ct=").append(link.contentFormats().get(0));
        } else if (!link.contentFormats().isEmpty()) {
            quoted(out, "ct", String.join(" ", link.contentFormats().stream().map(String::valueOf).toList()));
        }
        if (link.maxSize().isPresent()) {
            out.append(";sz=").append(link.maxSize().getAsLong());
        }
        link.title().ifPresent(t -> quoted(out, "title", t));
        if (link.observable()) {
            out.append(";obs");
        }
        for (Map.Entry<String, List<String>> e : link.extensions().entrySet()) {
            for (String v : e.getValue()) {
                if (v.isEmpty()) {
                    out.append(';').append(e.getKey());
                } else {
                    quoted(out, e.getKey(), v);
                }
            }
        }
    }

    private static void list(StringBuilder out, String name, List<String> values) {
        if (!values.isEmpty()) {
            quoted(out, name, String.join(" ", values));
        }
    }

    /**
     * Appends {@code ;name="value"} with quotes and backslashes escaped.
     *
     * @param out where to write
     * @param name the parameter name
     * @param value the unquoted value
     */
    public static void quoted(StringBuilder out, String name, String value) {
        out.append(';').append(name).append("=\"");
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '"' || c == '\\') {
                out.append('\\');
            }
            out.append(c);
        }
        out.append('"');
    }
}
