package io.peerlink.bridge.internal;

import io.peerlink.PeerLinkException;
import io.peerlink.Registration;

import java.net.URI;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Registrations in an embedded H2 database file. One table, one row per registration; links are
 * kept as their link-format text, which the directory's own parser reads back.
 */
public final class H2RegistrationStore implements RegistrationStore {
    private final Connection connection;

    /**
     * @param databaseFile the file name H2 derives its files from ({@code <name>.mv.db})
     * @throws PeerLinkException if the database cannot be opened or created
     */
    public H2RegistrationStore(Path databaseFile) {
        String name = databaseFile.toAbsolutePath().toString();
        if (name.endsWith(".mv.db")) {
            name = name.substring(0, name.length() - ".mv.db".length());
        }
        try {
            connection = DriverManager.getConnection("jdbc:h2:file:" + name + ";DB_CLOSE_ON_EXIT=FALSE", "sa", "");
            try (Statement s = connection.createStatement()) {
                s.execute("CREATE TABLE IF NOT EXISTS registration ("
                        + "location VARCHAR(64) PRIMARY KEY, ep VARCHAR(255) NOT NULL, d VARCHAR(255), "
                        + "base VARCHAR(2048) NOT NULL, et VARCHAR(255), lt BIGINT NOT NULL, "
                        + "expires BIGINT NOT NULL, attributes CLOB NOT NULL, links CLOB NOT NULL)");
            }
        } catch (SQLException e) {
            throw new PeerLinkException("cannot open the registration database " + name + ": " + e.getMessage(), e);
        }
    }

    @Override
    public synchronized List<Registration> load() {
        List<Registration> all = new ArrayList<>();
        try (Statement s = connection.createStatement();
             ResultSet rs = s.executeQuery("SELECT location, ep, d, base, et, lt, expires, attributes, links "
                     + "FROM registration ORDER BY expires")) {
            while (rs.next()) {
                all.add(new Registration(rs.getString(1), rs.getString(2), Optional.ofNullable(rs.getString(3)),
                        URI.create(rs.getString(4)), Optional.ofNullable(rs.getString(5)),
                        Duration.ofSeconds(rs.getLong(6)), Instant.ofEpochMilli(rs.getLong(7)),
                        decodeAttributes(rs.getString(8)), LinkFormat.parse(rs.getString(9))));
            }
        } catch (SQLException e) {
            throw new PeerLinkException("cannot read the registration database: " + e.getMessage(), e);
        }
        return all;
    }

    @Override
    public synchronized void put(Registration r) {
        try (PreparedStatement p = connection.prepareStatement(
                "MERGE INTO registration KEY (location) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            p.setString(1, r.location());
            p.setString(2, r.endpointName());
            p.setString(3, r.sector().orElse(null));
            p.setString(4, r.base().toString());
            p.setString(5, r.endpointType().orElse(null));
            p.setLong(6, r.lifetime().getSeconds());
            p.setLong(7, r.expires().toEpochMilli());
            p.setString(8, encodeAttributes(r.attributes()));
            p.setString(9, LinkFormat.format(r.links()));
            p.executeUpdate();
        } catch (SQLException e) {
            throw new PeerLinkException("cannot store registration " + r.location() + ": " + e.getMessage(), e);
        }
    }

    @Override
    public synchronized void delete(String location) {
        try (PreparedStatement p = connection.prepareStatement("DELETE FROM registration WHERE location = ?")) {
            p.setString(1, location);
            p.executeUpdate();
        } catch (SQLException e) {
            throw new PeerLinkException("cannot delete registration " + location + ": " + e.getMessage(), e);
        }
    }

    @Override
    public synchronized void close() {
        try {
            connection.close();
        } catch (SQLException e) {
            throw new PeerLinkException("cannot close the registration database: " + e.getMessage(), e);
        }
    }

    private static String encodeAttributes(Map<String, String> attributes) {
        StringBuilder out = new StringBuilder();
        attributes.forEach((k, v) -> {
            if (out.length() > 0) {
                out.append('&');
            }
            out.append(URLEncoder.encode(k, StandardCharsets.UTF_8)).append('=')
                    .append(URLEncoder.encode(v, StandardCharsets.UTF_8));
        });
        return out.toString();
    }

    private static Map<String, String> decodeAttributes(String text) {
        Map<String, String> attributes = new LinkedHashMap<>();
        if (!text.isEmpty()) {
            for (String pair : text.split("&")) {
                int eq = pair.indexOf('=');
                attributes.put(URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
                        URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
            }
        }
        return attributes;
    }
}
