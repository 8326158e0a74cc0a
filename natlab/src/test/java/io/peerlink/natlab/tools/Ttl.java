package io.peerlink.natlab.tools;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.channels.DatagramChannel;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.ptr.IntByReference;

/**
 * Sets the unicast IP TTL of a {@link DatagramChannel}, which the JDK cannot do: it reads the
 * channel's file descriptor through {@code sun.nio.ch} (needs {@code --add-opens
 * java.base/sun.nio.ch=ALL-UNNAMED}) and calls libc {@code setsockopt(IPPROTO_IP, IP_TTL)} via JNA.
 */
public final class Ttl {
    private static final int IPPROTO_IP = 0;
    private static final int IP_TTL = 2;

    /** libc, just the two calls we need. */
    public interface LibC extends Library {
        /** setsockopt(2). */
        int setsockopt(int fd, int level, int option, IntByReference value, int length);

        /** getsockopt(2). */
        int getsockopt(int fd, int level, int option, IntByReference value, IntByReference length);
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
            Method getter = channel.getClass().getMethod("getFDVal");
            getter.setAccessible(true);
            return (Integer) getter.invoke(channel);
        } catch (NoSuchMethodException | IllegalAccessException | InvocationTargetException | RuntimeException e) {
            throw new IllegalStateException("cannot read the socket's file descriptor from " + channel.getClass()
                    + "; is the JVM started with --add-opens java.base/sun.nio.ch=ALL-UNNAMED?", e);
        }
    }
}
