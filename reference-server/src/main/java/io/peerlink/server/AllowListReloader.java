package io.peerlink.server;

import io.peerlink.DeviceId;
import io.peerlink.server.auth.AllowListAuthenticator;
import io.peerlink.server.rendezvous.RendezvousService;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reloads the allow-list when its file changes. A modification-time and size check every
 * interval, rather than a WatchService: it works the same for editors that replace the file,
 * for bind-mounted config maps and on file systems without change notification, and costs one
 * stat per second. A bad file is logged and the previous list kept, so a half-saved edit never
 * locks every device out.
 */
final class AllowListReloader implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(AllowListReloader.class);

    private final AllowListAuthenticator list;
    private final RendezvousService rendezvous;
    private final Path file;
    private final ScheduledExecutorService timer;
    private FileTime lastModified;
    private long lastSize;

    AllowListReloader(AllowListAuthenticator list, RendezvousService rendezvous, long intervalMillis) {
        this.list = list;
        this.rendezvous = rendezvous;
        this.file = list.file();
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "peerlink-allow-list-reload");
            t.setDaemon(true);
            return t;
        });
        remember();
        timer.scheduleWithFixedDelay(this::check, intervalMillis, intervalMillis, TimeUnit.MILLISECONDS);
    }

    private boolean remember() {
        try {
            FileTime modified = Files.getLastModifiedTime(file);
            long size = Files.size(file);
            boolean changed = !modified.equals(lastModified) || size != lastSize;
            lastModified = modified;
            lastSize = size;
            return changed;
        } catch (IOException e) {
            // Mid-replacement or deleted: keep the current list and look again next time.
            return false;
        }
    }

    private void check() {
        try {
            if (!remember()) {
                return;
            }
            Map<DeviceId, String> next;
            try {
                next = list.reload();
            } catch (IllegalStateException e) {
                LOG.warn("allow-list not reloaded, keeping the previous one: {}", e.getMessage());
                return;
            }
            int removed = rendezvous.retainAllowed(next);
            LOG.info("allow-list {} reloaded: {} devices; {} disconnected", file, next.size(), removed);
        } catch (RuntimeException e) {
            LOG.warn("allow-list reload failed", e);
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
