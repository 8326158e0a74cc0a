package io.peerlink.transport.udp;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Platform;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.DatagramChannel;

/**
 * Sets and reads the unicast IP TTL (IPv4 {@code IP_TTL}, IPv6 {@code IPV6_UNICAST_HOPS}) of a
 * {@link DatagramChannel}'s socket through JNA, without any JVM flag.
 *
 * <p>The JDK has no unicast TTL option ({@code IP_MULTICAST_TTL} only affects multicast, and
 * {@code jdk.net.ExtendedSocketOptions} has no IP_TTL on 17), and the channel's file descriptor
 * is private to {@code sun.nio.ch} (reading it needed {@code --add-opens}). So the descriptor is
 * found the way a debugger would: {@link SocketDescriptors} lists the process's open descriptors
 * and keeps the sockets whose {@code getsockname} equals the channel's bound address, then marks
 * the channel with two successive {@code IP_MULTICAST_TTL} values through the public JDK API and
 * keeps the one descriptor that shows both (one {@code getsockname} per open descriptor, once per
 * transport start). Probed once per JVM; when the platform cannot (not
 * Linux or macOS, JNA missing), {@link #instance()} is null and a single warning says why.
 */
final class SocketTtl {

    private static final System.Logger LOG = System.getLogger(SocketTtl.class.getName());
    private static final Object PROBE_LOCK = new Object();
    private static volatile Probe probe;

    /** JNA binding of the libc calls; int arrays are passed as pointers. */
    interface LibC extends Library {
        int setsockopt(int fd, int level, int name, int[] value, int length) throws LastErrorException;

        int getsockopt(int fd, int level, int name, int[] value, int[] length) throws LastErrorException;

        /** Not declared to throw: most descriptors probed are not sockets, and -1 is the answer. */
        int getsockname(int fd, byte[] address, int[] length);
    }

    /** Option numbers that differ between kernels; only the two we can check are supported. */
    record Constants(int ipTtl, int ipMulticastTtl, int ipv6UnicastHops, int ipv6MulticastHops, int afInet6,
                     boolean bsdSockaddr, String descriptorDirectory) {
        static final int IPPROTO_IP = 0;
        static final int IPPROTO_IPV6 = 41;
        static final int AF_INET = 2;
    }

    private record Probe(SocketTtl instance, String unavailableReason) {
    }

    private final LibC libc;
    private final Constants constants;
    private final SocketDescriptors descriptors;

    private SocketTtl(LibC libc, Constants constants) {
        this.libc = libc;
        this.constants = constants;
        this.descriptors = new SocketDescriptors(libc, constants);
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
                                + "capabilities().ttlControl() is false, low-TTL hole-punch openers cannot be sent and "
                                + "punches that need them fail with this reason. Cause: " + p.unavailableReason
                                + ". TTL control needs Linux or macOS and net.java.dev.jna:jna on the path.");
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
        Constants constants;
        if (Platform.isLinux()) {
            constants = new Constants(2, 33, 16, 18, 10, false, "/proc/self/fd");
        } else if (Platform.isMac()) {
            constants = new Constants(4, 10, 4, 10, 30, true, "/dev/fd");
        } else {
            return new Probe(null, "unsupported OS for setsockopt(IP_TTL) through JNA: " + System.getProperty("os.name"));
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
        return new Probe(new SocketTtl(libc, constants), null);
    }

    /**
     * @param channel an open, bound channel
     * @param ipv6 whether the channel's socket is AF_INET6
     * @return its socket's file descriptor
     * @throws IOException if the descriptor cannot be identified (with the reason)
     */
    int fd(DatagramChannel channel, boolean ipv6) throws IOException {
        InetSocketAddress local = (InetSocketAddress) channel.getLocalAddress();
        if (local == null) {
            throw new IOException("the channel is not bound, so its socket cannot be found by address");
        }
        int original = channel.getOption(StandardSocketOptions.IP_MULTICAST_TTL);
        int[] markers = SocketDescriptors.markers(original);
        try {
            return descriptors.find(local, ipv6, marker -> {
                channel.setOption(StandardSocketOptions.IP_MULTICAST_TTL, marker);
            }, markers);
        } finally {
            channel.setOption(StandardSocketOptions.IP_MULTICAST_TTL, original);
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
            libc.getsockopt(fd, Constants.IPPROTO_IPV6, constants.ipv6UnicastHops(), value, length);
        } else {
            libc.getsockopt(fd, Constants.IPPROTO_IP, constants.ipTtl(), value, length);
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
        libc.getsockopt(fd, Constants.IPPROTO_IP, constants.ipTtl(), value, length);
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
        libc.setsockopt(fd, Constants.IPPROTO_IP, constants.ipTtl(), new int[] {ipv4Ttl}, 4);
        if (ipv6Socket) {
            libc.setsockopt(fd, Constants.IPPROTO_IPV6, constants.ipv6UnicastHops(), new int[] {ipv6Hops}, 4);
        }
    }
}
