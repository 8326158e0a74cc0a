package io.peerlink.transport.udp;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Platform;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.nio.channels.DatagramChannel;

/**
 * Sets and reads the unicast IP TTL (IPv4 {@code IP_TTL}, IPv6 {@code IPV6_UNICAST_HOPS}) of a
 * {@link DatagramChannel}'s socket. The JDK has no unicast TTL option, so this takes the file
 * descriptor out of {@code sun.nio.ch.DatagramChannelImpl} by reflection (which needs
 * {@code --add-opens java.base/sun.nio.ch=...}) and calls {@code setsockopt}/{@code getsockopt}
 * through JNA. Probed once per JVM; when anything is missing, {@link #instance()} is null and a
 * single warning says what to add.
 */
final class SocketTtl {

    /** The JVM flag that makes the file descriptor reachable on the class path. */
    static final String REQUIRED_JVM_FLAG = "--add-opens java.base/sun.nio.ch=ALL-UNNAMED";

    private static final System.Logger LOG = System.getLogger(SocketTtl.class.getName());
    private static final Object PROBE_LOCK = new Object();
    private static volatile Probe probe;

    /** JNA binding of the two libc calls; int arrays are passed as pointers. */
    interface LibC extends Library {
        int setsockopt(int fd, int level, int name, int[] value, int length) throws LastErrorException;

        int getsockopt(int fd, int level, int name, int[] value, int[] length) throws LastErrorException;
    }

    private record Probe(SocketTtl instance, String unavailableReason) {
    }

    private final LibC libc;
    private final Field fdField;
    private final Method fdMethod;
    private final int ipProtoIp;
    private final int ipTtl;
    private final int ipProtoIpv6;
    private final int ipv6UnicastHops;

    private SocketTtl(LibC libc, Field fdField, Method fdMethod, int ipTtl, int ipv6UnicastHops) {
        this.libc = libc;
        this.fdField = fdField;
        this.fdMethod = fdMethod;
        this.ipProtoIp = 0;
        this.ipTtl = ipTtl;
        this.ipProtoIpv6 = 41;
        this.ipv6UnicastHops = ipv6UnicastHops;
    }

    /** @return the TTL controller, or null (after one logged warning) when this JVM cannot have one */
    static SocketTtl instance() {
        Probe p = probe;
        if (p == null) {
            synchronized (PROBE_LOCK) {
                p = probe;
                if (p == null) {
                    p = probeOnce();
                    probe = p;
                    if (p.instance == null) {
                        LOG.log(System.Logger.Level.WARNING, "PeerLink UDP: IP TTL control is unavailable, so "
                                + "capabilities().ttlControl() is false and low-TTL hole-punch openers cannot be sent "
                                + "(punching through common Linux NATs may fail). Cause: " + p.unavailableReason
                                + ". Fix: start the JVM with " + REQUIRED_JVM_FLAG
                                + " (or --add-opens java.base/sun.nio.ch=io.peerlink.transport.udp on the module path)"
                                + " and keep net.java.dev.jna:jna on the path.");
                    }
                }
            }
        }
        return p.instance;
    }

    /** @return why TTL control is unavailable, or null when it is available */
    static String unavailableReason() {
        instance();
        return probe.unavailableReason;
    }

    private static Probe probeOnce() {
        int ipTtl;
        int ipv6Hops;
        // Option numbers differ between kernels; only the two we can check are supported.
        if (Platform.isLinux()) {
            ipTtl = 2;
            ipv6Hops = 16;
        } else if (Platform.isMac()) {
            ipTtl = 4;
            ipv6Hops = 4;
        } else {
            return new Probe(null, "unsupported OS for setsockopt(IP_TTL) through JNA: " + System.getProperty("os.name"));
        }
        Field field = null;
        Method method = null;
        try {
            Class<?> impl = Class.forName("sun.nio.ch.DatagramChannelImpl");
            try {
                field = impl.getDeclaredField("fdVal");
                field.setAccessible(true);
            } catch (NoSuchFieldException e) {
                // Some JDK builds drop the cached int; SelChImpl.getFDVal() is the stable accessor.
                method = impl.getMethod("getFDVal");
                method.setAccessible(true);
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            // InaccessibleObjectException (java.base does not open sun.nio.ch) lands here.
            return new Probe(null, "cannot read the DatagramChannel file descriptor (" + e + ")");
        }
        LibC libc;
        try {
            libc = Native.load(Platform.C_LIBRARY_NAME, LibC.class);
        } catch (Throwable e) { // UnsatisfiedLinkError, NoClassDefFoundError: JNA or its native part missing
            if (e instanceof VirtualMachineError vme) {
                throw vme;
            }
            return new Probe(null, "JNA cannot load the C library (" + e + ")");
        }
        return new Probe(new SocketTtl(libc, field, method, ipTtl, ipv6Hops), null);
    }

    /**
     * @param channel an open channel created by the JDK's default provider
     * @return its socket's file descriptor
     * @throws IllegalStateException if the channel is not a {@code sun.nio.ch.DatagramChannelImpl}
     */
    int fd(DatagramChannel channel) {
        try {
            if (fdField != null) {
                if (!fdField.getDeclaringClass().isInstance(channel)) {
                    throw new IllegalStateException("not a JDK DatagramChannelImpl: " + channel.getClass().getName());
                }
                return fdField.getInt(channel);
            }
            return (int) fdMethod.invoke(channel);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot read the file descriptor of " + channel, e);
        }
    }

    /**
     * @param fd socket
     * @param ipv6Socket whether the socket is AF_INET6 (then the IPv6 hop limit is read)
     * @return the unicast TTL / hop limit the socket applies now
     * @throws LastErrorException if getsockopt fails
     */
    int get(int fd, boolean ipv6Socket) {
        int[] value = {0};
        int[] length = {4};
        if (ipv6Socket) {
            libc.getsockopt(fd, ipProtoIpv6, ipv6UnicastHops, value, length);
        } else {
            libc.getsockopt(fd, ipProtoIp, ipTtl, value, length);
        }
        return value[0];
    }

    /**
     * @return the IPv4 TTL of the socket (also meaningful on a dual-stack socket sending to IPv4)
     * @throws LastErrorException if getsockopt fails
     */
    int getIpv4(int fd) {
        int[] value = {0};
        int[] length = {4};
        libc.getsockopt(fd, ipProtoIp, ipTtl, value, length);
        return value[0];
    }

    /**
     * Sets the unicast TTL. A dual-stack IPv6 socket gets both the IPv6 hop limit and the IPv4
     * TTL, because on Linux datagrams to IPv4-mapped destinations use the latter.
     *
     * @param fd socket
     * @param ipv6Socket whether the socket is AF_INET6
     * @param ipv4Ttl value for IP_TTL
     * @param ipv6Hops value for IPV6_UNICAST_HOPS (ignored for an IPv4 socket)
     * @throws LastErrorException if setsockopt fails
     */
    void set(int fd, boolean ipv6Socket, int ipv4Ttl, int ipv6Hops) {
        libc.setsockopt(fd, ipProtoIp, ipTtl, new int[] {ipv4Ttl}, 4);
        if (ipv6Socket) {
            libc.setsockopt(fd, ipProtoIpv6, ipv6UnicastHops, new int[] {ipv6Hops}, 4);
        }
    }
}
