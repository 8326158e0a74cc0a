package io.peerlink.core.internal.device;

import io.peerlink.CloseReason;
import io.peerlink.DeviceId;
import io.peerlink.LinkEvent;
import io.peerlink.LinkListener;
import io.peerlink.PathInfo;
import io.peerlink.PeerLink;
import io.peerlink.ReliableChannel;
import io.peerlink.core.internal.channel.ChannelEngine;
import io.peerlink.core.internal.loop.ApplicationChannel;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;

/** A {@link PeerLink}: a channel engine plus the path it runs on. */
final class PeerLinkImpl implements PeerLink {
    private final DeviceId peer;
    private final ChannelEngine engine;
    private final PathInfo path;
    private final List<LinkListener> listeners = new CopyOnWriteArrayList<>();
    private final ReliableChannel applicationChannel;

    PeerLinkImpl(DeviceId peer, ChannelEngine engine, PathInfo path) {
        this.peer = peer;
        this.engine = engine;
        this.path = path;
        this.applicationChannel = new ApplicationChannel(engine, engine.loop().callbacks());
        engine.closed().thenAccept(reason -> fire(new LinkEvent.Closed(reason)));
    }

    ChannelEngine engine() {
        return engine;
    }

    /** Listeners run on the link's serial callback executor, after the messages before the event. */
    private void fire(LinkEvent event) {
        engine.callbackExecutor().execute(() -> fireNow(event));
    }

    private void fireNow(LinkEvent event) {
        for (LinkListener l : listeners) {
            try {
                l.onEvent(event);
            } catch (RuntimeException e) {
                System.getLogger(PeerLinkImpl.class.getName()).log(System.Logger.Level.WARNING,
                        "link listener threw on " + event, e);
            }
        }
    }

    @Override
    public DeviceId peer() {
        return peer;
    }

    @Override
    public ReliableChannel channel() {
        return applicationChannel;
    }

    @Override
    public PathInfo path() {
        return path;
    }

    @Override
    public CompletionStage<Duration> ping() {
        return engine.loop().callbacks().expose(engine.ping());
    }

    @Override
    public void addListener(LinkListener listener) {
        listeners.add(java.util.Objects.requireNonNull(listener, "listener"));
    }

    @Override
    public CompletionStage<CloseReason> close() {
        return applicationChannel.close();
    }

    @Override
    public void abort() {
        applicationChannel.abort();
    }

    @Override
    public String toString() {
        return "PeerLink[" + peer.shortForm() + " via " + path + "]";
    }
}
