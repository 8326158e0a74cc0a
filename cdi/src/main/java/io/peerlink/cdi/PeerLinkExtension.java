package io.peerlink.cdi;

import io.peerlink.Device;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.spi.AfterDeploymentValidation;
import jakarta.enterprise.inject.spi.BeanManager;
import jakarta.enterprise.inject.spi.BeforeBeanDiscovery;
import jakarta.enterprise.inject.spi.Extension;
import jakarta.enterprise.inject.spi.ProcessInjectionPoint;

/**
 * Makes {@code @Inject Device} work in any CDI container: adds the producer of an
 * {@code @ApplicationScoped} {@link Device} built from {@link DeviceSettings} and closed with the
 * container, and fires the device's incoming requests and link events as CDI events. If anything
 * injects a {@code Device}, the configuration is checked at deployment, so a missing key fails
 * the start of the container, not the first call. Registered in
 * {@code META-INF/services/jakarta.enterprise.inject.spi.Extension}.
 */
public class PeerLinkExtension implements Extension {
    private volatile boolean deviceInjected;

    void addBeans(@Observes BeforeBeanDiscovery event) {
        event.addAnnotatedType(DeviceBeans.class, DeviceBeans.class.getName());
    }

    void noteDeviceInjection(@Observes ProcessInjectionPoint<?, Device> event) {
        deviceInjected = true;
    }

    void checkSettings(@Observes AfterDeploymentValidation event, BeanManager manager) {
        if (!deviceInjected) {
            return;
        }
        try {
            // Only the settings are resolved here: the device itself stays lazy.
            manager.createInstance().select(DeviceSettings.class).get();
        } catch (PeerLinkConfigurationException e) {
            event.addDeploymentProblem(e);
        }
    }
}
