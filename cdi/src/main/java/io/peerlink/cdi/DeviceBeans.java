package io.peerlink.cdi;

import io.peerlink.Device;
import io.peerlink.PeerLinks;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Event;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;

/**
 * The beans {@link PeerLinkExtension} adds: the settings (an application may replace them with an
 * {@code @Alternative @Priority} producer of {@link DeviceSettings}) and the device.
 */
final class DeviceBeans {

    @Produces
    DeviceSettings settings() {
        return DeviceSettings.load();
    }

    /** Application scoped, so the device is built on first use, once, and closed with the container. */
    @Produces
    @ApplicationScoped
    Device device(DeviceSettings settings, Event<Object> events) {
        return EventingDevice.wrap(settings.applyTo(PeerLinks.device()).build(), events);
    }

    void close(@Disposes Device device) {
        device.close();
    }
}
