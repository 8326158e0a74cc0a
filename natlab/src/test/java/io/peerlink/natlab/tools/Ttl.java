package io.peerlink.natlab.tools;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.DatagramChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.ptr.IntByReference;

/**
 * Sets the unicast IPv4 TTL of a {@link DatagramChannel} on Linux, which the JDK cannot. The
 * channel's file descriptor is found without any JVM flag, as the UDP transport does: among
 * {@code /proc/self/fd}, the sockets whose {@code getsockname} equals the channel's bound address
 * and that show an {@code IP_MULTICAST_TTL} marker set through the JDK. Then libc
 * {@code setsockopt(IPPROTO_IP, IP_TTL)} via JNA.
 */
public final class Ttl {
    private static final int IPPROTO_IP = 0;
    private static final int IP_TTL = 2;
    private static final int IP_MULTICAST_TTL = 33;
    private static final int AF_INET = 2;
    private static final int AF_INET6 = 10;

    /** libc, just the calls we need. */
    public interface LibC extends Library {
        /** setsockopt(2). */
        int setsockopt(int fd, int level, int option, IntByReference value, int length);

        /** getsockopt(2). */
        int getsockopt(int fd, int level, int option, IntByReference value, IntByReference length);

        /** getsockname(2). */
        int getsockname(int fd, byte[] address, IntByReference length);
    }

    private static final LibC LIBC = Native.load("c", LibC.class);

    private Ttl() {
    }

    /** Sets IP_TTL (1..255) on the channel's socket. */
    public static void set(DatagramChannel channel, int ttl) {
        if (ttl < 1 || ttl > 255) {
            throw new IllegalArgumentException("TTL " + ttl + " outside 1..255");
        }
        IntByReference value = new IntByReference(ttl);
        if (LIBC.setsockopt(fd(channel), IPPROTO_IP, IP_TTL, value, Integer.BYTES) != 0) {
            throw new IllegalStateException("setsockopt(IP_TTL, " + ttl + ") failed, errno " + Native.getLastError());
        }
    }

    /** Reads IP_TTL of the channel's socket. */
    public static int get(DatagramChannel channel) {
        IntByReference value = new IntByReference();
        IntByReference length = new IntByReference(Integer.BYTES);
        if (LIBC.getsockopt(fd(channel), IPPROTO_IP, IP_TTL, value, length) != 0) {
            throw new IllegalStateException("getsockopt(IP_TTL) failed, errno " + Native.getLastError());
        }
        return value.getValue();
    }

    private static int fd(DatagramChannel channel) {
        try {
            InetSocketAddress local = (InetSocketAddress) channel.getLocalAddress();
            if (local == null) {
                throw new IllegalStateException("needs a bound channel");
            }
            List<Integer> candidates = new ArrayList<>();
            try (DirectoryStream<Path> dir = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
                for (Path p : dir) {
                    int fd = Integer.parseInt(p.getFileName().toString());
                    if (boundTo(fd, local)) {
                        candidates.add(fd);
                    }
                }
            }
            int original = channel.getOption(StandardSocketOptions.IP_MULTICAST_TTL);
            try {
                for (int marker : new int[] {original == 201 ? 202 : 201, original == 113 ? 114 : 113}) {
                    channel.setOption(StandardSocketOptions.IP_MULTICAST_TTL, marker);
                    candidates.removeIf(fd -> multicastTtl(fd) != marker);
                }
            } finally {
                channel.setOption(StandardSocketOptions.IP_MULTICAST_TTL, original);
            }
            if (candidates.size() != 1) {
                throw new IllegalStateException("cannot identify the socket bound to " + local + " (" + candidates.size() + " matches)");
            }
            return candidates.get(0);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static boolean boundTo(int fd, InetSocketAddress local) {
        byte[] sockaddr = new byte[128];
        IntByReference length = new IntByReference(sockaddr.length);
        if (LIBC.getsockname(fd, sockaddr, length) != 0 || length.getValue() < 8) {
            return false;
        }
        int family = ByteBuffer.wrap(sockaddr).order(ByteOrder.nativeOrder()).getShort(0);
        int port = ((sockaddr[2] & 0xff) << 8) | (sockaddr[3] & 0xff);
        if (port != local.getPort()) {
            return false;
        }
        if (local.getAddress() instanceof Inet4Address) {
            return family == AF_INET && Arrays.equals(sockaddr, 4, 8, local.getAddress().getAddress(), 0, 4);
        }
        // DatagramChannel.open() makes a dual-stack AF_INET6 socket; IP_TTL still governs its IPv4 traffic.
        return local.getAddress() instanceof Inet6Address && family == AF_INET6 && length.getValue() >= 24
                && Arrays.equals(sockaddr, 8, 24, local.getAddress().getAddress(), 0, 16);
    }

    private static int multicastTtl(int fd) {
        IntByReference value = new IntByReference(-1);
        IntByReference length = new IntByReference(Integer.BYTES);
        return LIBC.getsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, value, length) == 0 ? value.getValue() : -1;
    }
}
