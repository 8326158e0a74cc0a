package io.peerlink.core.internal.device;

import io.peerlink.ChannelOptions;
import io.peerlink.Device;
import io.peerlink.core.internal.punch.PunchOptions;

import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executor;

/** Collects a device's configuration; {@link #build()} validates and starts it. */
final class DeviceBuilderImpl implements Device.Builder {
    Path keyFile;
    boolean ephemeral;
    URI rendezvous;
    io.peerlink.protocol.rendezvous.ServerPin rendezvousPin;
    InetSocketAddress stunServer;
    final List<InetSocketAddress> udpBinds = new ArrayList<>();
    ChannelOptions channelOptions = ChannelOptions.defaults();
    Duration connectTimeout = Duration.ofSeconds(10);
    PunchOptions punchOptions = PunchOptions.defaults();
    boolean hostCandidates = true;
    /** Null: the default callback executor (see loop.Callbacks). */
    Executor callbackExecutor;

    @Override
    public Device.Builder identity(Path keyFile) {
        this.keyFile = Objects.requireNonNull(keyFile, "keyFile");
        this.ephemeral = false;
        return this;
    }

    @Override
    public Device.Builder ephemeralIdentity() {
        this.ephemeral = true;
        this.keyFile = null;
        return this;
    }

    @Override
    public Device.Builder rendezvous(URI controlUri) {
        Objects.requireNonNull(controlUri, "controlUri");
        if (!"ws".equals(controlUri.getScheme()) && !"wss".equals(controlUri.getScheme())) {
            throw new IllegalArgumentException("rendezvous URI must be ws:// or wss://, got " + controlUri);
        }
        this.rendezvous = controlUri;
        return this;
    }

    @Override
    public Device.Builder rendezvousPin(String pin) {
        this.rendezvousPin = io.peerlink.protocol.rendezvous.ServerPin.parse(pin);
        return this;
    }

    @Override
    public Device.Builder udp(InetSocketAddress bindAddress) {
        udpBinds.add(Objects.requireNonNull(bindAddress, "bindAddress"));
        return this;
    }

    @Override
    public Device.Builder stunServer(InetSocketAddress server) {
        this.stunServer = Objects.requireNonNull(server, "server");
        return this;
    }

    @Override
    public Device.Builder hostCandidates(boolean advertise) {
        this.hostCandidates = advertise;
        return this;
    }

    @Override
    public Device.Builder openerTtl(int ttl) {
        this.punchOptions = punchOptions.withOpenerTtl(ttl);
        return this;
    }

    @Override
    public Device.Builder channelOptions(ChannelOptions options) {
        this.channelOptions = Objects.requireNonNull(options, "options");
        return this;
    }

    @Override
    public Device.Builder connectTimeout(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("connectTimeout must be positive: " + timeout);
        }
        this.connectTimeout = timeout;
        return this;
    }

    @Override
    public Device.Builder callbackExecutor(Executor executor) {
        this.callbackExecutor = Objects.requireNonNull(executor, "executor");
        return this;
    }

    @Override
    public Device build() {
        if (keyFile == null && !ephemeral) {
            throw new IllegalStateException("no identity: call identity(keyFile) or ephemeralIdentity()");
        }
        if (udpBinds.isEmpty()) {
            throw new IllegalStateException("no transport: call udp(bindAddress); transports are never added silently");
        }
        if (udpBinds.size() > 1) {
            throw new IllegalStateException("one UDP socket per device is supported; got " + udpBinds.size());
        }
        return DeviceImpl.start(this);
    }
}
