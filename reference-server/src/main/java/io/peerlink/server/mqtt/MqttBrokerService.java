package io.peerlink.server.mqtt;

import io.peerlink.server.ServerConfig;
import io.peerlink.server.ServerService;
import io.peerlink.spi.Authenticator;
import io.peerlink.transport.mqtt.moquette.EmbeddedMqttBroker;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import io.peerlink.server.log.RateLimitedLogger;
import org.slf4j.LoggerFactory;

import java.io.IOException;

/**
 * The embedded MQTT 3.1.1 broker (Moquette, module peerlink-mqtt-moquette) as a
 * {@link ServerService}: on {@code mqtt.port} when it is not -1 (the default), with logins checked
 * as signed identity tokens and then admitted by this server's {@link Authenticator} — the same
 * decision, and the same network, as on the rendezvous (docs/transports.md).
 */
@ApplicationScoped
public class MqttBrokerService implements ServerService {
    /** Refused logins are what a hostile client can trigger at will: rate-limited (docs/operations.md, "Logging"). */
    private static final RateLimitedLogger REFUSALS = RateLimitedLogger.of(LoggerFactory.getLogger(MqttBrokerService.class));
    private ServerConfig config;
    private Authenticator authenticator;
    private volatile EmbeddedMqttBroker broker;

    /** CDI. */
    protected MqttBrokerService() {
    }

    /**
     * @param config the server configuration
     * @param authenticator the server's authenticator
     */
    @Inject
    public MqttBrokerService(ServerConfig config, Authenticator authenticator) {
        this.config = config;
        this.authenticator = authenticator;
    }

    @Override
    public String name() {
        return "mqtt";
    }

    @Override
    public boolean enabled() {
        return config.mqtt().port() >= 0;
    }

    @Override
    public synchronized void start() {
        ServerConfig.Mqtt settings = config.mqtt();
        EmbeddedMqttBroker.Builder b = EmbeddedMqttBroker.builder().host(config.bindHost()).port(settings.port())
                .authenticator(authenticator)
                .refusalListener((client, why) -> REFUSALS.info("refused the MQTT login of client '{}': {}", client, why));
        if (settings.dataDirectory() != null) {
            b.dataDirectory(settings.dataDirectory());
        }
        if (settings.audience() != null) {
            b.audience(settings.audience());
        }
        EmbeddedMqttBroker started = b.build();
        try {
            started.start();
        } catch (IOException | RuntimeException e) {
            started.stop();
            throw new IllegalStateException("cannot start the embedded MQTT broker on tcp " + config.bindHost() + ":"
                    + settings.port() + " (mqtt.port; -1 turns it off): " + e.getMessage(), e);
        }
        broker = started;
    }

    @Override
    public String describe() {
        EmbeddedMqttBroker b = broker;
        return b == null ? "off" : "tcp " + config.bindHost() + ":" + b.port() + ", login tokens for '" + b.audience()
                + "', admitted by authenticator '" + authenticator.name() + "'";
    }

    @Override
    public synchronized void stop() {
        if (broker != null) {
            broker.stop();
            broker = null;
        }
    }

    /** @return the bound port, or -1 when off */
    public int port() {
        EmbeddedMqttBroker b = broker;
        return b == null ? -1 : b.port();
    }

    /** @return the running broker, or null when off */
    public EmbeddedMqttBroker broker() {
        return broker;
    }
}
