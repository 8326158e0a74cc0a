/**
 * PeerLink for CDI applications: a portable extension that makes {@code @Inject Device} work,
 * configured from {@link io.peerlink.cdi.DeviceSettings} keys, and fires incoming requests and
 * link events as CDI events. See docs/embedding.md.
 */
module io.peerlink.cdi {
    requires transitive io.peerlink.api;
    requires transitive jakarta.cdi;

    exports io.peerlink.cdi;
    // The container reads the producer bean and the extension's observer methods reflectively.
    opens io.peerlink.cdi;

    provides jakarta.enterprise.inject.spi.Extension with io.peerlink.cdi.PeerLinkExtension;
}
