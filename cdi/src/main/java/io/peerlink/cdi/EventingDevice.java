package io.peerlink.cdi;

import io.peerlink.Device;
import io.peerlink.DeviceId;
import io.peerlink.Endpoint;
import io.peerlink.IncomingHandler;
import io.peerlink.IncomingRequest;
import io.peerlink.LinkEvent;
import io.peerlink.PeerLink;
import io.peerlink.Rendezvous;
import jakarta.enterprise.event.Event;

import java.lang.System.Logger.Level;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletionStage;

/**
 * The device behind the injected {@link Device}: delegates everything and turns incoming requests
 * and link events into CDI events. Events are fired synchronously on the device's callback
 * executor, so observers keep the runtime's ordering guarantees (one incoming request at a time;
 * one link's events in order with its messages).
 */
final class EventingDevice implements Device {
    /** Sent to a requester when no observer accepted or rejected its request. */
    static final String NOT_DECIDED = "not accepted";
    private static final System.Logger LOG = System.getLogger(EventingDevice.class.getName());

    private final Device device;
    private final Event<Object> events;
    private volatile IncomingHandler applicationHandler;

    EventingDevice(Device device, Event<Object> events) {
        this.device = device;
        this.events = events;
        device.onIncoming(this::deliver);
    }

    private void deliver(IncomingRequest raw) {
        ObservedRequest request = new ObservedRequest(raw, this::watch);
        IncomingHandler handler = applicationHandler;
        try {
            if (handler != null) {
                handler.onIncoming(request);
                return;
            }
            events.select(IncomingRequest.class).fire(request);
        } catch (RuntimeException e) {
            // An observer's failure must not leave the requester waiting for its connect timeout.
            LOG.log(Level.WARNING, "an observer of the incoming request from " + raw.from() + " failed", e);
        }
        if (handler == null && !request.decided()) {
            request.reject(NOT_DECIDED);
        }
    }

    private PeerLink watch(PeerLink link) {
        link.addListener(event -> fire(link, event));
        return link;
    }

    private void fire(PeerLink link, LinkEvent event) {
        try {
            events.select(PeerLinkEvent.class).fire(new PeerLinkEvent(link, event));
            events.select(LinkEvent.class).fire(event);
        } catch (RuntimeException e) {
            // Links close while the container shuts down, when there may be no one left to tell.
            LOG.log(Level.DEBUG, "link event " + event + " of the link to " + link.peer() + " not delivered", e);
        }
    }

    @Override
    public DeviceId id() {
        return device.id();
    }

    @Override
    public Rendezvous rendezvous() {
        return device.rendezvous();
    }

    @Override
    public List<Endpoint> localEndpoints() {
        return device.localEndpoints();
    }

    @Override
    public CompletionStage<PeerLink> connect(DeviceId peer) {
        return device.connect(peer).thenApply(this::watch);
    }

    @Override
    public CompletionStage<PeerLink> connect(Endpoint endpoint) {
        return device.connect(endpoint).thenApply(this::watch);
    }

    /**
     * Replaces CDI delivery of incoming requests with a handler, which then decides alone (and may
     * keep a request to decide later). Links it accepts still fire link events.
     */
    @Override
    public void onIncoming(IncomingHandler handler) {
        applicationHandler = Objects.requireNonNull(handler, "handler");
    }

    @Override
    public void close() {
        device.close();
    }

    @Override
    public String toString() {
        return "Device[" + device.id() + ", CDI events]";
    }
}
