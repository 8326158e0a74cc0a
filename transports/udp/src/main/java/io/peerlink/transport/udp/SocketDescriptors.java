package io.peerlink.transport.udp;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Finds the file descriptor of one of this process's sockets by what the kernel says about it:
 * first its bound address ({@code getsockname}), then a marker the owner sets through the
 * public JDK API ({@code IP_MULTICAST_TTL}, which affects only multicast sends, so unicast
 * traffic is unchanged while it is set). Two successive markers make a coincidental match
 * impossible, including another socket bound to the same address with {@code SO_REUSEADDR}.
 */
final class SocketDescriptors {

    /** Sets the marker on the socket being looked for. */
    @FunctionalInterface
    interface Marker {
        void mark(int value) throws IOException;
    }

    private final SocketTtl.LibC libc;
    private final SocketTtl.Constants constants;

    SocketDescriptors(SocketTtl.LibC libc, SocketTtl.Constants constants) {
        this.libc = libc;
        this.constants = constants;
    }

    /**
     * @param original the socket's current multicast TTL
     * @return two marker values, different from each other and from the original
     */
    static int[] markers(int original) {
        int first = original == 201 ? 202 : 201;
        int second = original == 113 ? 114 : 113;
        return new int[] {first, second};
    }

    /**
     * @param local the socket's bound address as the JDK reports it
     * @param ipv6 whether the socket is AF_INET6
     * @param marker sets IP_MULTICAST_TTL on the wanted socket
     * @param markers the values to set, one after the other
     * @return the one descriptor that matches the address and shows every marker
     * @throws IOException if none or several match, or the descriptors cannot be listed
     */
    int find(InetSocketAddress local, boolean ipv6, Marker marker, int[] markers) throws IOException {
        List<Integer> candidates = new ArrayList<>();
        for (int fd : openDescriptors()) {
            if (boundTo(fd, local, ipv6)) {
                candidates.add(fd);
            }
        }
        for (int value : markers) {
            marker.mark(value);
            candidates.removeIf(fd -> multicastTtl(fd, ipv6) != value);
        }
        if (candidates.size() != 1) {
            throw new IOException("cannot identify the socket bound to " + local + " among the process's descriptors ("
                    + candidates.size() + " matched " + Arrays.toString(markers) + ")");
        }
        return candidates.get(0);
    }

    private int[] openDescriptors() throws IOException {
        List<Integer> fds = new ArrayList<>();
        try (DirectoryStream<Path> dir = Files.newDirectoryStream(Path.of(constants.descriptorDirectory()))) {
            for (Path p : dir) {
                try {
                    fds.add(Integer.parseInt(p.getFileName().toString()));
                } catch (NumberFormatException e) {
                    // "." style entries on some systems: not a descriptor
                }
            }
        }
        return fds.stream().mapToInt(Integer::intValue).toArray();
    }

    private boolean boundTo(int fd, InetSocketAddress local, boolean ipv6) {
        byte[] sockaddr = new byte[128];
        int[] length = {sockaddr.length};
        if (libc.getsockname(fd, sockaddr, length) != 0) {
            return false; // not a socket, or closed meanwhile
        }
        ByteBuffer b = ByteBuffer.wrap(sockaddr);
        int family = constants.bsdSockaddr() ? sockaddr[1] & 0xff : b.order(ByteOrder.nativeOrder()).getShort(0) & 0xffff;
        int port = ((sockaddr[2] & 0xff) << 8) | (sockaddr[3] & 0xff);
        if (port != local.getPort()) {
            return false;
        }
        byte[] want = local.getAddress().getAddress();
        if (ipv6 && want.length == 4) {
            // An AF_INET6 socket bound to an IPv4 address reports it IPv4-mapped (::ffff:a.b.c.d).
            byte[] mapped = new byte[16];
            mapped[10] = (byte) 0xff;
            mapped[11] = (byte) 0xff;
            System.arraycopy(want, 0, mapped, 12, 4);
            want = mapped;
        }
        if (ipv6) {
            return family == constants.afInet6() && length[0] >= 24 && Arrays.equals(sockaddr, 8, 24, want, 0, 16);
        }
        return family == SocketTtl.Constants.AF_INET && length[0] >= 8 && Arrays.equals(sockaddr, 4, 8, want, 0, 4);
    }

    private int multicastTtl(int fd, boolean ipv6) {
        int[] value = {-1};
        int[] length = {4};
        try {
            if (ipv6) {
                libc.getsockopt(fd, SocketTtl.Constants.IPPROTO_IPV6, constants.ipv6MulticastHops(), value, length);
            } else {
                libc.getsockopt(fd, SocketTtl.Constants.IPPROTO_IP, constants.ipMulticastTtl(), value, length);
            }
        } catch (RuntimeException e) {
            return -1; // closed meanwhile, or not an IP socket
        }
        return value[0];
    }
}
