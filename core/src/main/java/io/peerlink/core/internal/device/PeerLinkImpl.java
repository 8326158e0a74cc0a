package io.peerlink.core.internal.device;

import io.peerlink.CloseReason;
import io.peerlink.DeviceId;
import io.peerlink.Endpoint;
import io.peerlink.LinkEvent;
import io.peerlink.LinkListener;
import io.peerlink.PathInfo;
import io.peerlink.PeerLink;
import io.peerlink.ReliableChannel;
import io.peerlink.core.internal.channel.ChannelEngine;
import io.peerlink.core.internal.link.LinkSocket;
import io.peerlink.core.internal.loop.ApplicationChannel;
import io.peerlink.core.internal.session.Session;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

/** A {@link PeerLink}: a session (channel engine plus paths) with a peer verified by the secure handshake. */
final class PeerLinkImpl implements PeerLink {
    private final DeviceId peer;
    private final List<LinkListener> listeners = new CopyOnWriteArrayList<>();
    private final Function<Endpoint, LinkSocket> socketByLocal;
    private Session session;
    private ReliableChannel applicationChannel;

    PeerLinkImpl(DeviceId peer, Function<Endpoint, LinkSocket> socketByLocal) {
        this.peer = peer;
        this.socketByLocal = socketByLocal;
    }

    /** Attaches the session; called once, on the loop, before the link is handed out. */
    void attach(Session s) {
        this.session = s;
        ChannelEngine engine = s.engine();
        this.applicationChannel = new ApplicationChannel(engine, engine.loop().callbacks());
        engine.closed().thenAccept(reason -> fire(new LinkEvent.Closed(reason)));
    }

    Session session() {
        return session;
    }

    ChannelEngine engine() {
        return session.engine();
    }

    /** Listeners run on the link's serial callback executor, after the messages before the event. */
    void fire(LinkEvent event) {
        session.engine().callbackExecutor().execute(() -> fireNow(event));
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
        return session.path();
    }

    @Override
    public List<PathInfo> paths() {
        return session.paths();
    }

    @Override
    public CompletionStage<PathInfo> addPath(Endpoint local, Endpoint remote) {
        return expose(session.addPath(socket(local), Objects.requireNonNull(remote, "remote"), false));
    }

    @Override
    public CompletionStage<PathInfo> switchPath(Endpoint local, Endpoint remote) {
        return expose(session.addPath(socket(local), Objects.requireNonNull(remote, "remote"), true));
    }

    private <T> CompletionStage<T> expose(CompletionStage<T> internal) {
        return session.engine().loop().callbacks().expose(internal);
    }

    private LinkSocket socket(Endpoint local) {
        LinkSocket s = socketByLocal.apply(Objects.requireNonNull(local, "local"));
        if (s == null) {
            throw new IllegalArgumentException("no transport of this device is bound to " + local);
        }
        return s;
    }

    @Override
    public CompletionStage<Duration> ping() {
        return expose(session.engine().ping());
    }

    @Override
    public void addListener(LinkListener listener) {
        listeners.add(Objects.requireNonNull(listener, "listener"));
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
        return "PeerLink[" + peer.shortForm() + " via " + path() + "]";
    }
}
