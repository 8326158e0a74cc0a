package io.peerlink.examples.sensor;

import io.peerlink.Device;
import io.peerlink.LinkEvent;
import io.peerlink.PeerLink;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.event.Startup;
import jakarta.inject.Inject;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/** Links to the collector when the container starts and sends it temperature readings. */
@ApplicationScoped
public class Sensor {
    @Inject
    Device device;

    void run(@Observes Startup startup) throws Exception {
        SensorSettings settings = SensorSettings.fromSystemProperties();
        System.out.println("sensor " + device.id() + " sending " + settings.readings() + " readings to "
                + settings.collector());
        device.rendezvous().registered().toCompletableFuture().get(30, TimeUnit.SECONDS);
        Random random = new Random();
        PeerLink link = device.connect(settings.collector()).toCompletableFuture().get(60, TimeUnit.SECONDS);
        for (int i = 1; i <= settings.readings(); i++) {
            String reading = String.format(Locale.ROOT, "reading %d temperature=%.2f", i, 20 + random.nextGaussian());
            // Wait for each reading to be delivered, so a closed link shows up as a failure here.
            link.channel().send(ByteBuffer.wrap(reading.getBytes(StandardCharsets.UTF_8)))
                    .toCompletableFuture().get(30, TimeUnit.SECONDS);
            System.out.println("sent " + reading);
            if (i < settings.readings()) {
                Thread.sleep(settings.interval().toMillis());
            }
        }
        System.out.println("link closed: " + link.close().toCompletableFuture().get(30, TimeUnit.SECONDS));
    }

    /** Link events arrive as CDI events; here they are only printed. */
    void onLinkEvent(@Observes LinkEvent event) {
        System.out.println("link event: " + event);
    }
}
