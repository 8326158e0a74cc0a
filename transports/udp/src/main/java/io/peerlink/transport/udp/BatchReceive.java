package io.peerlink.transport.udp;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * Receives with UDP generic receive offload ({@code UDP_GRO}, Linux 5.0+) through JNA on 64-bit
 * Linux: the kernel hands a run of datagrams of one flow and one size to the socket as one buffer
 * (on loopback, a {@code UDP_SEGMENT} send arrives exactly as it was sent, never cut up), and one
 * {@code recvmsg(2)} returns it with the segment size in a control message; the transport cuts
 * it back into datagrams before its handler sees them. Datagrams the kernel did not coalesce
 * arrive one per call, as before.
 *
 * <p>Once {@code UDP_GRO} is on, every read of the socket must go through this class (a plain
 * {@code receive} would return coalesced datagrams as one), so it is enabled only when the JNA
 * binding works; otherwise the transport keeps the JDK's {@code DatagramChannel.receive}.
 * Layouts are those of the LP64 Linux ABI, as in {@link BatchSend}. One instance per socket,
 * used by its receive thread only.
 */
final class BatchReceive {

    private static final System.Logger LOG = System.getLogger(BatchReceive.class.getName());
    private static final Object PROBE_LOCK = new Object();
    private static volatile String unavailable;
    private static volatile boolean probed;

    private static final int SOL_UDP = 17;
    private static final int UDP_GRO = 104;
    private static final int MSG_DONTWAIT = 0x40;
    private static final int MSG_TRUNC = 0x20;
    private static final int EAGAIN = 11;
    private static final int EINTR = 4;
    private static final int AF_INET = 2;
    private static final int AF_INET6 = 10;

    private static final int MSGHDR = 56;
    private static final int IOV = MSGHDR;
    private static final int NAME = IOV + 16;
    private static final int NAME_BYTES = 128;
    private static final int CONTROL = NAME + NAME_BYTES;
    private static final int CONTROL_BYTES = 64;
    private static final int AREA = CONTROL + CONTROL_BYTES;

    /** JNA direct mapping; {@code recvmsg} reports errors through its return value and errno. */
    static final class LibC {
        private LibC() {
        }

        static native long recvmsg(int fd, long message, int flags);

        static native int setsockopt(int fd, int level, int name, int[] value, int length) throws LastErrorException;
    }

    private final int fd;
    private final long bufferAddress;
    private final int capacity;
    private final Memory area = new Memory(AREA);
    private final long areaAddress = Pointer.nativeValue(area);
    private final ByteBuffer h = area.getByteBuffer(0, AREA).order(ByteOrder.nativeOrder());
    private final byte[] lastName = new byte[28];
    private final byte[] name = new byte[28];
    private InetSocketAddress lastSource;
    private int segmentSize;
    private boolean truncated;

    /**
     * Set for a connected socket: an ICMP error of an earlier send is reported as
     * {@link java.net.PortUnreachableException}, as the JDK's {@code DatagramChannel.read} reports
     * it on a connected channel (the TURN client's leg treats it as a sign of trouble).
     */
    private boolean reportUnreachable;

    private BatchReceive(int fd, ByteBuffer buffer) {
        this.fd = fd;
        this.bufferAddress = Pointer.nativeValue(Native.getDirectBufferPointer(buffer));
        this.capacity = buffer.capacity();
    }

    /**
     * Turns {@code UDP_GRO} on for the socket.
     *
     * @param fd the socket's descriptor
     * @param buffer the direct buffer every datagram is received into
     * @param local the socket's endpoint, for the log
     * @return the receiver, or null if this JVM or kernel cannot (then nothing was changed)
     */
    static BatchReceive enable(int fd, ByteBuffer buffer, Object local) {
        if (!buffer.isDirect()) {
            return null;
        }
        if (!probe()) {
            return null;
        }
        try {
            LibC.setsockopt(fd, SOL_UDP, UDP_GRO, new int[] {1}, 4);
        } catch (LastErrorException e) {
            LOG.log(System.Logger.Level.DEBUG, "UDP " + local + ": no UDP_GRO (errno " + e.getErrorCode() + "), one datagram per read");
            return null;
        }
        return new BatchReceive(fd, buffer);
    }

    private static boolean probe() {
        if (!probed) {
            synchronized (PROBE_LOCK) {
                if (!probed) {
                    if (!Platform.isLinux() || Native.POINTER_SIZE != 8 || Native.SIZE_T_SIZE != 8) {
                        unavailable = "UDP_GRO needs 64-bit Linux";
                    } else {
                        try {
                            Native.register(LibC.class, Platform.C_LIBRARY_NAME);
                        } catch (Throwable e) {
                            if (e instanceof VirtualMachineError vme) {
                                throw vme;
                            }
                            unavailable = "JNA cannot bind recvmsg (" + e + ")";
                        }
                    }
                    if (unavailable != null) {
                        LOG.log(System.Logger.Level.DEBUG, "PeerLink UDP: coalesced receives unavailable: " + unavailable);
                    }
                    probed = true;
                }
            }
        }
        return unavailable == null;
    }

    /**
     * Reads the next (possibly coalesced) datagram into the buffer, without waiting.
     *
     * @return its length in bytes, or -1 if the socket has nothing now
     * @throws IOException if the socket failed (not for an ICMP error of an earlier send)
     */
    int receive() throws IOException {
        while (true) {
            h.putLong(0, areaAddress + NAME);
            h.putInt(8, NAME_BYTES);
            h.putLong(16, areaAddress + IOV);
            h.putLong(24, 1);
            h.putLong(32, areaAddress + CONTROL);
            h.putLong(40, CONTROL_BYTES);
            h.putInt(48, 0);
            h.putLong(IOV, bufferAddress);
            h.putLong(IOV + 8, capacity);
            long n = LibC.recvmsg(fd, areaAddress, MSG_DONTWAIT);
            if (n >= 0) {
                truncated = (h.getInt(48) & MSG_TRUNC) != 0;
                segmentSize = readSegmentSize();
                return (int) n;
            }
            int errno = Native.getLastError();
            if (errno == EAGAIN) {
                return -1;
            }
            if (errno == 111 /* ECONNREFUSED: an ICMP error for an earlier send */ && reportUnreachable) {
                throw new java.net.PortUnreachableException("ICMP port unreachable for an earlier datagram");
            }
            if (errno == EINTR || errno == 111) {
                continue;
            }
            throw new IOException("recvmsg failed with errno " + errno);
        }
    }

    /** Reports ICMP errors of earlier sends as {@link java.net.PortUnreachableException} (a connected socket). */
    void reportUnreachable() {
        reportUnreachable = true;
    }

    /** @return the size of each coalesced datagram of the last read, or 0 if it held one datagram */
    int segmentSize() {
        return segmentSize;
    }

    /** @return true if the last read did not fit the buffer (it cannot: the buffer holds any UDP datagram) */
    boolean truncated() {
        return truncated;
    }

    private int readSegmentSize() {
        long controlLength = h.getLong(40);
        int at = CONTROL;
        int end = CONTROL + (int) Math.min(controlLength, CONTROL_BYTES);
        while (at + 16 <= end) {
            long length = h.getLong(at);
            if (length < 16 || at + length > end) {
                break;
            }
            if (h.getInt(at + 8) == SOL_UDP && h.getInt(at + 12) == UDP_GRO && length >= 20) {
                return h.getInt(at + 16);
            }
            at += (int) ((length + 7) & ~7L);
        }
        return 0;
    }

    /** @return the last read's source; the same instance while the source does not change */
    InetSocketAddress source() throws IOException {
        int family = h.getShort(NAME) & 0xffff;
        int length = family == AF_INET6 ? 28 : 16;
        for (int i = 0; i < length; i++) {
            name[i] = h.get(NAME + i);
        }
        if (lastSource != null && Arrays.equals(name, 0, length, lastName, 0, length)) {
            return lastSource;
        }
        int port = ((name[2] & 0xff) << 8) | (name[3] & 0xff);
        InetAddress address;
        try {
            if (family == AF_INET) {
                address = InetAddress.getByAddress(Arrays.copyOfRange(name, 4, 8));
            } else if (family == AF_INET6) {
                byte[] raw = Arrays.copyOfRange(name, 8, 24);
                int scope = ByteBuffer.wrap(name, 24, 4).order(ByteOrder.nativeOrder()).getInt();
                // IPv4-mapped sources come back as plain IPv4, as the JDK reports them.
                address = scope != 0 ? java.net.Inet6Address.getByAddress(null, raw, scope) : InetAddress.getByAddress(raw);
            } else {
                throw new IOException("recvmsg returned an address of family " + family);
            }
        } catch (UnknownHostException e) {
            throw new IOException("malformed source address from recvmsg", e);
        }
        System.arraycopy(name, 0, lastName, 0, length);
        lastSource = new InetSocketAddress(address, port);
        return lastSource;
    }
}
