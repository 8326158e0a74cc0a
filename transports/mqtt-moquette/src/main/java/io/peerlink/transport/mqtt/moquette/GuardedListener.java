package io.peerlink.transport.mqtt.moquette;

import io.moquette.broker.MoquetteIdleTimeoutHandler;
import io.moquette.broker.NewNettyMQTTHandler;
import io.moquette.broker.Server;
import io.moquette.broker.config.IConfig;
import io.moquette.broker.security.IAuthenticator;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.mqtt.MqttConnAckMessage;
import io.netty.handler.codec.mqtt.MqttConnectMessage;
import io.netty.handler.codec.mqtt.MqttConnectReturnCode;
import io.netty.handler.codec.mqtt.MqttDecoder;
import io.netty.handler.codec.mqtt.MqttEncoder;
import io.netty.handler.codec.mqtt.MqttMessageBuilders;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.ReferenceCountUtil;

import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * The embedded broker's TCP listener, in place of Moquette's own: the same Netty pipeline as Moquette
 * 0.17's {@code NewNettyAcceptor} (idle handler, MQTT decoder and encoder, Moquette's connection handler),
 * with a {@link WillCheck} between the decoder and Moquette that refuses a CONNECT whose will topic the
 * login may not publish on. Moquette 0.17 stores a CONNECT's will in the session and publishes it when the
 * connection drops without asking the authorizer ({@code SessionRegistry.createWill},
 * {@code PostOffice.fireWill}); a refused CONNECT never reaches Moquette, so no session and no will exist.
 *
 * <p>Moquette 0.17 has no public way to add a handler to its pipeline, so this builds its connection
 * handler from the started {@link Server}'s session registry and post office (by reflection; an automatic
 * module's packages are open). Moquette itself binds no TCP port ({@code port=disabled}).
 */
final class GuardedListener implements AutoCloseable {

    /** Decides whether a login may publish on a topic (the broker's write ACL). */
    interface WritePolicy {
        boolean canWrite(String topic, String user, String clientId);
    }

    /** Told about each CONNECT refused for its will. */
    interface Refusals {
        void refused(String clientId, String reason);
    }

    private final EventLoopGroup boss;
    private final EventLoopGroup workers;
    private final Channel serverChannel;

    private GuardedListener(EventLoopGroup boss, EventLoopGroup workers, Channel serverChannel) {
        this.boss = boss;
        this.workers = workers;
        this.serverChannel = serverChannel;
    }

    /**
     * Binds the listener for a started Moquette server.
     *
     * @param server started with {@code port=disabled} and {@code websocket_port=disabled}
     * @param config the configuration it was started with
     * @param authenticator the authenticator it was started with
     * @param host address to bind
     * @param port port to bind, 0 for any
     * @param maxMessageBytes largest MQTT packet accepted
     * @param policy the write ACL wills are checked against
     * @param refusals told of every refused will
     * @return the bound listener
     * @throws IOException if the port cannot be bound
     */
    static GuardedListener bind(Server server, IConfig config, IAuthenticator authenticator, String host, int port,
                                int maxMessageBytes, WritePolicy policy, Refusals refusals) throws IOException {
        NewNettyMQTTHandler moquette = moquetteHandler(server, config, authenticator);
        EventLoopGroup boss = new NioEventLoopGroup(1);
        EventLoopGroup workers = new NioEventLoopGroup();
        ServerBootstrap b = new ServerBootstrap()
                .group(boss, workers)
                .channel(NioServerSocketChannel.class)
                .option(ChannelOption.SO_BACKLOG, 128)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.SO_KEEPALIVE, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        // Names as in Moquette's NewNettyAcceptor: MQTTConnection replaces "idleStateHandler"
                        // with the client's keepalive once connected.
                        ChannelPipeline p = ch.pipeline();
                        p.addLast("idleStateHandler", new IdleStateHandler(10, 0, 0));
                        p.addLast("idleEventHandler", new MoquetteIdleTimeoutHandler());
                        p.addLast("decoder", new MqttDecoder(maxMessageBytes));
                        p.addLast("encoder", MqttEncoder.INSTANCE);
                        p.addLast("willCheck", new WillCheck(policy, refusals));
                        p.addLast("handler", moquette);
                    }
                });
        try {
            Channel ch = b.bind(host, port).sync().channel();
            return new GuardedListener(boss, workers, ch);
        } catch (Exception e) {
            boss.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            workers.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            throw new IOException("cannot bind the embedded MQTT broker to " + host + ":" + port + ": " + e.getMessage(), e);
        }
    }

    private static NewNettyMQTTHandler moquetteHandler(Server server, IConfig config, IAuthenticator authenticator) {
        try {
            ClassLoader loader = Server.class.getClassLoader();
            Class<?> brokerConfiguration = Class.forName("io.moquette.broker.BrokerConfiguration", false, loader);
            Class<?> sessionRegistry = Class.forName("io.moquette.broker.SessionRegistry", false, loader);
            Class<?> postOffice = Class.forName("io.moquette.broker.PostOffice", false, loader);
            Class<?> factory = Class.forName("io.moquette.broker.MQTTConnectionFactory", false, loader);
            Object sessions = field(server, "sessions");
            Object dispatcher = field(server, "dispatcher");
            Constructor<?> bc = brokerConfiguration.getDeclaredConstructor(IConfig.class);
            bc.setAccessible(true);
            Constructor<?> fc = factory.getDeclaredConstructor(brokerConfiguration, IAuthenticator.class, sessionRegistry, postOffice);
            fc.setAccessible(true);
            Constructor<NewNettyMQTTHandler> hc = NewNettyMQTTHandler.class.getDeclaredConstructor(factory);
            hc.setAccessible(true);
            return hc.newInstance(fc.newInstance(bc.newInstance(config), authenticator, sessions, dispatcher));
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new IllegalStateException("the embedded MQTT broker needs Moquette " + Server.MOQUETTE_VERSION
                    + "'s internals as of 0.17 (session registry, post office, connection factory): " + e, e);
        }
    }

    private static Object field(Server server, String name) throws ReflectiveOperationException {
        Field f = Server.class.getDeclaredField(name);
        f.setAccessible(true);
        Object v = f.get(server);
        if (v == null) {
            throw new IllegalStateException("Moquette's Server." + name + " is not set; is the server started?");
        }
        return v;
    }

    /** @return the bound port */
    int port() {
        return ((InetSocketAddress) serverChannel.localAddress()).getPort();
    }

    /** Stops accepting and closes every connection (connections that drop publish their permitted wills). */
    @Override
    public void close() {
        serverChannel.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        workers.shutdownGracefully(0, 5, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
        boss.shutdownGracefully(0, 5, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
    }

    /**
     * Refuses (CONNACK 5, "not authorized", then close) a CONNECT whose will topic the login may not
     * publish on; after a refusal nothing more from that connection reaches Moquette.
     */
    static final class WillCheck extends ChannelInboundHandlerAdapter {
        private final WritePolicy policy;
        private final Refusals refusals;
        private boolean refused;

        WillCheck(WritePolicy policy, Refusals refusals) {
            this.policy = policy;
            this.refusals = refusals;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (refused) {
                ReferenceCountUtil.release(msg);
                return;
            }
            if (msg instanceof MqttConnectMessage connect && connect.decoderResult().isSuccess()
                    && connect.variableHeader().isWillFlag() && isMqtt3(connect)) {
                String topic = connect.payload().willTopic();
                String user = connect.payload().userName();
                String client = connect.payload().clientIdentifier();
                String why = check(topic, user, client);
                if (why != null) {
                    refused = true;
                    ReferenceCountUtil.release(msg);
                    refusals.refused(client, why);
                    MqttConnAckMessage nack = MqttMessageBuilders.connAck()
                            .returnCode(MqttConnectReturnCode.CONNECTION_REFUSED_NOT_AUTHORIZED)
                            .sessionPresent(false).build();
                    ctx.writeAndFlush(nack).addListener(ChannelFutureListener.CLOSE);
                    return;
                }
            }
            ctx.fireChannelRead(msg);
        }

        /** MQTT 3.1 and 3.1.1 (protocol levels 3 and 4); Moquette 0.17 refuses any other version itself. */
        private static boolean isMqtt3(MqttConnectMessage connect) {
            int level = connect.variableHeader().version();
            return level == 3 || level == 4;
        }

        private String check(String topic, String user, String client) {
            if (topic == null || topic.isEmpty()) {
                return "the will has no topic";
            }
            if (topic.indexOf('+') >= 0 || topic.indexOf('#') >= 0 || topic.indexOf('\0') >= 0) {
                return "the will topic '" + printable(topic) + "' contains a wildcard or NUL";
            }
            if (user == null || !policy.canWrite(topic, user, client)) {
                return "the will topic '" + printable(topic) + "' is not one this login may publish on";
            }
            return null;
        }

        private static String printable(String s) {
            String t = s.length() > 96 ? s.substring(0, 96) + "..." : s;
            return t.replaceAll("\\p{Cntrl}", "?");
        }
    }
}
