package io.peerlink.cdi;

import io.peerlink.Device;
import io.peerlink.IncomingHandler;
import io.peerlink.IncomingRequest;
import io.peerlink.LinkEvent;
import io.peerlink.PeerLink;
import jakarta.enterprise.event.Event;

import java.lang.System.Logger.Level;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.Objects;
import java.util.concurrent.CompletionStage;

/**
 * The device behind the injected {@link Device}: forwards every call to the runtime's device and
 * turns incoming requests and link events into CDI events. Events are fired synchronously on the
 * device's callback executor, so observers keep the runtime's ordering guarantees (one incoming
 * request at a time; one link's events in order with its messages).
 *
 * <p>A dynamic proxy rather than a class implementing {@link Device}: only {@code onIncoming} and
 * the {@code connect} methods need anything added, and every other method, including ones the API
 * gains later, must reach the device unchanged.
 */
final class EventingDevice implements InvocationHandler {
    /** Sent to a requester when no observer accepted or rejected its request. */
    static final String NOT_DECIDED = "not accepted";
    private static final System.Logger LOG = System.getLogger(EventingDevice.class.getName());

    private final Device device;
    private final Event<Object> events;
    private volatile IncomingHandler applicationHandler;

    private EventingDevice(Device device, Event<Object> events) {
        this.device = device;
        this.events = events;
    }

    /**
     * @param device the runtime's device
     * @param events where to fire
     * @return a device that fires CDI events
     */
    static Device wrap(Device device, Event<Object> events) {
        EventingDevice handler = new EventingDevice(device, events);
        device.onIncoming(handler::deliver);
        return (Device) Proxy.newProxyInstance(Device.class.getClassLoader(), new Class<?>[] {Device.class}, handler);
    }

    @Override
    public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
        if (method.getDeclaringClass() == Object.class) {
            return switch (method.getName()) {
                case "equals" -> proxy == args[0];
                case "hashCode" -> System.identityHashCode(proxy);
                default -> "Device[" + device.id() + ", CDI events]";
            };
        }
        if (method.getName().equals("onIncoming") && args != null && args.length == 1
                && args[0] instanceof IncomingHandler handler) {
            // The application's handler replaces CDI delivery and then decides alone (it may keep a
            // request to decide later); links it accepts still fire link events.
            applicationHandler = Objects.requireNonNull(handler, "handler");
            return null;
        }
        Object result;
        try {
            result = method.invoke(device, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
        if (method.getName().equals("connect") && result instanceof CompletionStage<?> stage) {
            return stage.thenApply(link -> watch((PeerLink) link));
        }
        return result;
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
}
