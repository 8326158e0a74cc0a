package io.peerlink.bridge.internal.ws;

import io.peerlink.LookupQuery;
import io.peerlink.Registration;
import io.peerlink.RegistrationRequest;
import io.peerlink.ResourceLink;
import io.peerlink.VirtualService;
import io.peerlink.bridge.internal.Directory;

import org.eclipse.californium.core.CoapResource;
import org.eclipse.jetty.client.HttpClient;

import java.io.IOException;
import java.net.URI;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Keeps the virtual resources in step with a directory of descriptions: reads every file at
 * start and again when the directory changes, mounts each service under {@code /ws/<name>} and
 * registers its operations in the resource directory as endpoint {@code ws-<name>}. A file that
 * turns bad keeps its last good version serving and reports why; a removed file is unmounted.
 */
public final class VirtualServices implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(VirtualServices.class.getName());
    /** The endpoint type virtual services are registered with. */
    public static final String ENDPOINT_TYPE = "virtual-service";
    /** Largest description file read. */
    static final long MAX_DESCRIPTION = 4L << 20;

    private final Path dir;
    private final Map<String, String> secrets;
    private final Map<String, URI> bases;
    private final Duration timeout;
    private final Directory directory;
    private final CoapResource root;
    private final URI advertisedBase;
    private final HttpClient http;
    private final Map<String, State> services = new LinkedHashMap<>();
    private final WatchService watcher;
    private final Thread watchThread;

    private static final class State {
        final Path file;
        byte[] digest;
        VirtualServiceResource resource;
        List<String> problems = List.of();
        Optional<URI> base = Optional.empty();

        State(Path file) {
            this.file = file;
        }
    }

    /**
     * Reads the directory and starts watching it.
     *
     * @param dir the description directory
     * @param secrets configured secrets by {@code <service>.<scheme>}
     * @param bases configured base URLs by service
     * @param timeout the HTTP timeout
     * @param directory the resource directory to register in
     * @param root the CoAP resource {@code /ws}
     * @param advertisedBase the bridge's CoAP base URI for registrations
     * @param http the started HTTP client
     * @throws IOException if the directory cannot be watched
     */
    public VirtualServices(Path dir, Map<String, String> secrets, Map<String, URI> bases, Duration timeout,
                           Directory directory, CoapResource root, URI advertisedBase, HttpClient http)
            throws IOException {
        this.dir = dir;
        this.secrets = Map.copyOf(secrets);
        this.bases = Map.copyOf(bases);
        this.timeout = timeout;
        this.directory = directory;
        this.root = root;
        this.advertisedBase = advertisedBase;
        this.http = http;
        Files.createDirectories(dir);
        this.watcher = dir.getFileSystem().newWatchService();
        dir.register(watcher, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY,
                StandardWatchEventKinds.ENTRY_DELETE);
        dropStaleRegistrations();
        rescan();
        this.watchThread = new Thread(this::watch, "peerlink-ws-watch");
        watchThread.setDaemon(true);
        watchThread.start();
    }

    /** Registrations of services whose files are gone (a persistent store may hold some). */
    private void dropStaleRegistrations() {
        for (Registration r : directory.lookupEndpoints(LookupQuery.all().where("et", ENDPOINT_TYPE))) {
            String name = r.endpointName().startsWith("ws-") ? r.endpointName().substring(3) : "";
            if (descriptionFile(name).isEmpty()) {
                directory.remove(r.location());
            }
        }
    }

    private Optional<Path> descriptionFile(String name) {
        for (String ext : List.of(".yaml", ".yml", ".json", ".raml")) {
            Path p = dir.resolve(name + ext);
            if (Files.isRegularFile(p)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    private void watch() {
        while (true) {
            WatchKey key;
            try {
                key = watcher.take();
                // Editors write in several steps: let them finish before reading.
                Thread.sleep(150);
                WatchKey more;
                while ((more = watcher.poll(50, TimeUnit.MILLISECONDS)) != null) {
                    more.pollEvents();
                    more.reset();
                }
            } catch (InterruptedException | ClosedWatchServiceException e) {
                return;
            }
            key.pollEvents();
            key.reset();
            try {
                rescan();
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "re-reading descriptions in " + dir + " failed", e);
            }
        }
    }

    /** Reads every changed, new or removed description. */
    public synchronized void rescan() {
        Set<String> seen = new HashSet<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            for (Path file : files) {
                String fileName = file.getFileName().toString();
                int dot = fileName.lastIndexOf('.');
                if (dot <= 0 || !Files.isRegularFile(file)) {
                    continue;
                }
                String ext = fileName.substring(dot + 1).toLowerCase(Locale.ROOT);
                if (!List.of("yaml", "yml", "json", "raml").contains(ext)) {
                    continue;
                }
                String name = fileName.substring(0, dot);
                seen.add(name);
                load(name, file, ext);
            }
        } catch (IOException e) {
            LOG.log(Level.WARNING, "cannot list descriptions in " + dir, e);
            return;
        }
        for (String gone : new ArrayList<>(services.keySet())) {
            if (!seen.contains(gone)) {
                unmount(gone);
            }
        }
    }

    private void load(String name, Path file, String ext) {
        State state = services.computeIfAbsent(name, n -> new State(file));
        byte[] content;
        try {
            if (Files.size(file) > MAX_DESCRIPTION) {
                state.problems = List.of(file.getFileName() + ": larger than " + MAX_DESCRIPTION + " bytes");
                return;
            }
            content = Files.readAllBytes(file);
        } catch (IOException e) {
            state.problems = List.of(file.getFileName() + ": cannot be read: " + e.getMessage());
            return;
        }
        byte[] digest = sha256(content);
        if (Arrays.equals(digest, state.digest)) {
            return;
        }
        state.digest = digest;
        try {
            if (!ServiceModel.slug(name).equals(name) || name.length() > 60) {
                throw new DescriptionException(List.of(file.getFileName() + ": the service name '" + name
                        + "' must be 1-60 letters, digits, '-', '_' or '.'"));
            }
            ServiceModel model = ext.equals("raml") ? RamlReader.read(name, file) : OpenApiReader.read(name, file);
            URI base = bases.containsKey(name) ? bases.get(name) : model.baseUrl().orElseThrow(
                    () -> new DescriptionException(List.of(file.getFileName() + ": no absolute server URL; configure "
                            + "serviceBase(\"" + name + "\", ...)")));
            mount(name, state, model, base);
            state.problems = List.of();
            LOG.info(() -> "virtual service " + name + ": " + model.operations().size() + " operation(s) from "
                    + file.getFileName() + " -> " + base);
        } catch (DescriptionException e) {
            state.problems = e.problems();
            LOG.warning(() -> "description " + file + " not taken: " + String.join("; ", e.problems())
                    + (state.resource != null ? " (the previous version keeps serving)" : ""));
        } catch (RuntimeException e) {
            // The parsers are third-party code reading hostile files: no exception of theirs may stop the bridge.
            state.problems = List.of(file.getFileName() + ": the parser failed: " + e);
            LOG.log(Level.WARNING, "description " + file + " not taken", e);
        }
    }

    private void mount(String name, State state, ServiceModel model, URI base) {
        VirtualServiceResource.Mounted mounted = VirtualServiceResource.Mounted.of(model, base);
        if (state.resource == null) {
            state.resource = new VirtualServiceResource(name, mounted, http, timeout, secrets::get);
            root.add(state.resource);
        } else {
            state.resource.remount(mounted);
        }
        state.base = Optional.of(base);
        List<ResourceLink> links = state.resource.links();
        directory.register(new RegistrationRequest("ws-" + name, Optional.empty(), Optional.of(advertisedBase),
                Optional.of(ENDPOINT_TYPE), RegistrationRequest.MAX_LIFETIME, Map.of(), links), advertisedBase);
    }

    private void unmount(String name) {
        State state = services.remove(name);
        if (state != null && state.resource != null) {
            root.delete(state.resource);
        }
        directory.byName("ws-" + name, Optional.empty()).ifPresent(r -> directory.remove(r.location()));
        LOG.info(() -> "virtual service " + name + ": description removed, unmounted");
    }

    private static byte[] sha256(byte[] content) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(content);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK lacks SHA-256", e);
        }
    }

    /** @return the services and their state */
    public synchronized List<VirtualService> snapshot() {
        List<VirtualService> out = new ArrayList<>();
        services.forEach((name, s) -> out.add(new VirtualService(name, s.file.toString(), s.base,
                s.resource == null ? List.of() : s.resource.links(), s.problems)));
        return out;
    }

    @Override
    public void close() {
        try {
            watcher.close();
        } catch (IOException e) {
            LOG.log(Level.FINE, "closing the description watcher", e);
        }
        watchThread.interrupt();
    }
}
