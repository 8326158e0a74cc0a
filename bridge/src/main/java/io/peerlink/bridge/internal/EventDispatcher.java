package io.peerlink.bridge.internal;

import io.peerlink.DirectoryEvent;
import io.peerlink.ResourceBridge;

import java.util.ArrayDeque;
import java.util.Objects;
import java.util.Queue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Delivers directory events to listeners, each listener one event at a time and in order, on
 * the configured executor. The directory publishes while holding its write lock, so delivery
 * must never run on the publishing thread: a listener that calls back into the directory would
 * otherwise see a half-finished change.
 */
public final class EventDispatcher {
    private static final Logger LOG = Logger.getLogger(EventDispatcher.class.getName());

    private final Executor executor;
    private final CopyOnWriteArrayList<Listener> listeners = new CopyOnWriteArrayList<>();

    /** @param executor where listeners run */
    public EventDispatcher(Executor executor) {
        this.executor = Objects.requireNonNull(executor, "executor");
    }

    /**
     * @param consumer the listener
     * @return its subscription
     */
    public ResourceBridge.Subscription subscribe(Consumer<? super DirectoryEvent> consumer) {
        Listener listener = new Listener(Objects.requireNonNull(consumer, "listener"));
        listeners.add(listener);
        return () -> listeners.remove(listener);
    }

    /** @param event delivered to every current listener */
    public void publish(DirectoryEvent event) {
        for (Listener l : listeners) {
            l.enqueue(event);
        }
    }

    private final class Listener implements Runnable {
        private final Consumer<? super DirectoryEvent> consumer;
        private final Queue<DirectoryEvent> queue = new ArrayDeque<>();
        private boolean scheduled;

        Listener(Consumer<? super DirectoryEvent> consumer) {
            this.consumer = consumer;
        }

        void enqueue(DirectoryEvent event) {
            synchronized (this) {
                queue.add(event);
                if (scheduled) {
                    return;
                }
                scheduled = true;
            }
            try {
                executor.execute(this);
            } catch (RuntimeException e) {
                synchronized (this) {
                    scheduled = false;
                    queue.clear();
                }
                LOG.log(Level.WARNING, "directory event dropped: the event executor refused it", e);
            }
        }

        @Override
        public void run() {
            while (true) {
                DirectoryEvent next;
                synchronized (this) {
                    next = queue.poll();
                    if (next == null) {
                        scheduled = false;
                        return;
                    }
                }
                if (!listeners.contains(this)) {
                    continue;
                }
                try {
                    consumer.accept(next);
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "directory listener threw on " + next.getClass().getSimpleName(), e);
                }
            }
        }
    }
}
