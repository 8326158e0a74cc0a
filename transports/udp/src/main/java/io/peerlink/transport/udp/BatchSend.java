package io.peerlink.transport.udp;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Sends a batch of datagrams to one destination with few system calls, through JNA on 64-bit
 * Linux: one {@code sendmmsg(2)} per up to {@link #MAX_MESSAGES} messages, and within a message,
 * where the socket supports it, UDP generic segmentation offload ({@code UDP_SEGMENT}, Linux 4.18+):
 * consecutive datagrams of one size (the last of a run may be shorter) leave as one buffer that
 * the kernel cuts into datagrams, so the stack is traversed once per run instead of once per
 * datagram. The receiver sees ordinary datagrams.
 *
 * <p>The JDK exposes neither call, so the bytes are copied into a per-thread native scratch area
 * (the JDK's own {@code DatagramChannel.send} of a heap buffer copies into a native buffer too)
 * and the call is made on the socket's descriptor, which {@link SocketTtl} finds by its bound
 * address. Probed once per JVM; where unavailable (not Linux, not 64-bit, JNA or the libc symbol
 * missing) {@link #instance()} is null, a single warning says why and the transport sends one
 * datagram per system call. If a segmented send fails on a socket (a kernel or device that
 * refuses {@code UDP_SEGMENT}), that socket stops using segmentation, once, with a warning, and the
 * batch goes out unsegmented.
 *
 * <p>Memory layouts are those of the LP64 Linux ABI (x86-64, aarch64, riscv64, ppc64le, s390x
 * share them): {@code struct mmsghdr} 64 bytes, {@code struct iovec} 16, {@code cmsghdr} header 16.
 */
final class BatchSend {

    private static final System.Logger LOG = System.getLogger(BatchSend.class.getName());
    private static final Object PROBE_LOCK = new Object();
    private static volatile Probe probe;

    /** Messages per {@code sendmmsg} call. */
    static final int MAX_MESSAGES = 64;
    /** Datagrams per segmented message (the kernel's UDP_MAX_SEGMENTS is 64 before Linux 6.9). */
    static final int MAX_SEGMENTS = 64;
    /** Bytes per segmented message: stays below the 65,507-byte IPv4 UDP payload limit. */
    static final int MAX_SEGMENTED_BYTES = 65_000;
    /**
     * Largest segment size used with segmentation: each segment must fit the device's MTU, and
     * 1,452 bytes fit a 1,500-byte Ethernet MTU under IPv6 and IPv4 headers. Larger datagrams go
     * unsegmented (the kernel fragments them as it would with {@code send}).
     */
    static final int MAX_SEGMENT_SIZE = 1_452;
    /** Native bytes of payload per thread; larger batches are sent in several calls. */
    static final int SCRATCH_BYTES = 256 << 10;

    private static final int SOL_UDP = 17;
    private static final int UDP_SEGMENT = 103;
    private static final int AF_INET = 2;
    private static final int AF_INET6 = 10;
    private static final int EAGAIN = 11;
    private static final int ENOBUFS = 105;
    /**
     * Errors that say where the datagram was going (or where from) is unreachable right now — the
     * device lost its address or route while it moves to another network, a firewall refused it —
     * not that the kernel refuses segmentation: EPERM, ECONNREFUSED, EADDRNOTAVAIL, ENETDOWN,
     * ENETUNREACH, EHOSTUNREACH.
     */
    private static boolean unreachable(int errno) {
        return errno == 1 || errno == 111 || errno == 99 || errno == 100 || errno == 101 || errno == 113;
    }
    private static final int MMSGHDR = 64;
    private static final int IOVEC = 16;
    private static final int CMSG_SPACE_U16 = 24;
    private static final int CMSG_LEN_U16 = 18;
    private static final int SOCKADDR = 32;
    private static final int IOV_AREA = MAX_MESSAGES * MMSGHDR;
    private static final int CMSG_AREA = IOV_AREA + MAX_MESSAGES * IOVEC;
    private static final int SOCKADDR_AREA = CMSG_AREA + MAX_MESSAGES * CMSG_SPACE_U16;
    private static final int HEADER_BYTES = SOCKADDR_AREA + SOCKADDR;

    /**
     * JNA direct mapping of the libc calls (static native methods bound by {@code Native.register}):
     * several times cheaper per call than an interface proxy, and pointers pass as plain addresses.
     */
    static final class LibC {
        private LibC() {
        }

        static native int sendmmsg(int fd, long messages, int count, int flags) throws LastErrorException;

        static native int getsockopt(int fd, int level, int name, int[] value, int[] length) throws LastErrorException;
    }

    private record Probe(BatchSend instance, String unavailableReason) {
    }

    /** Native scratch of one sending thread: message headers and the datagrams' bytes. */
    private static final class Scratch {
        final Memory headers = new Memory(HEADER_BYTES);
        final Memory data = new Memory(SCRATCH_BYTES);
        final long headersAddress = Pointer.nativeValue(headers);
        final long dataAddress = Pointer.nativeValue(data);
        final ByteBuffer dataView = data.getByteBuffer(0, SCRATCH_BYTES);
        /** The headers as a buffer: field writes without a JNI call each. */
        final ByteBuffer h = headers.getByteBuffer(0, HEADER_BYTES).order(ByteOrder.nativeOrder());
        /** Datagrams in each message of the current call. */
        final int[] perMessage = new int[MAX_MESSAGES];
    }

    private final ThreadLocal<Scratch> scratch = ThreadLocal.withInitial(Scratch::new);

    private BatchSend() {
    }

    /** @return the batch sender, or null (after one logged warning) when this JVM cannot have one */
    static BatchSend instance() {
        Probe p = probe;
        if (p == null) {
            synchronized (PROBE_LOCK) {
                p = probe;
                if (p == null) {
                    p = probeOnce();
                    probe = p;
                    if (p.instance == null) {
                        LOG.log(System.Logger.Level.WARNING, "PeerLink UDP: batched sending (sendmmsg, UDP_SEGMENT) is "
                                + "unavailable, so every datagram costs one system call. Cause: " + p.unavailableReason);
                    }
                }
            }
        }
        return p.instance;
    }

    /** @return why batching is unavailable in this JVM, or null when it is available */
    static String unavailableReason() {
        instance();
        return probe.unavailableReason;
    }

    private static Probe probeOnce() {
        if (!Platform.isLinux()) {
            return new Probe(null, "sendmmsg needs Linux, this is " + System.getProperty("os.name"));
        }
        if (Native.POINTER_SIZE != 8 || Native.SIZE_T_SIZE != 8) {
            return new Probe(null, "the batch layout needs a 64-bit JVM");
        }
        try {
            Native.register(LibC.class, Platform.C_LIBRARY_NAME);
            try {
                // Descriptor -1 fails with EBADF: the call exists and is bound.
                LibC.sendmmsg(-1, 0, 0, 0);
            } catch (LastErrorException expected) {
                // the call exists
            }
            return new Probe(new BatchSend(), null);
        } catch (Throwable e) { // UnsatisfiedLinkError, NoClassDefFoundError: JNA or the symbol missing
            if (e instanceof VirtualMachineError vme) {
                throw vme;
            }
            return new Probe(null, "JNA cannot call sendmmsg in the C library (" + e + ")");
        }
    }

    /**
     * @param fd a UDP socket
     * @return true if the socket accepts {@code UDP_SEGMENT} (the kernel knows the option)
     */
    boolean segmentationSupported(int fd) {
        try {
            LibC.getsockopt(fd, SOL_UDP, UDP_SEGMENT, new int[] {0}, new int[] {4});
            return true;
        } catch (LastErrorException | UnsatisfiedLinkError e) {
            return false;
        }
    }

    /** What a socket using this sender learns as it goes; one per transport start. */
    static final class SocketState {
        volatile boolean segmentation;
        private volatile boolean failureLogged;

        SocketState(boolean segmentation) {
            this.segmentation = segmentation;
        }
    }

    /**
     * Sends {@code datagrams[offset, offset + count)} to {@code to}. The caller holds the transport's
     * send lock (the descriptor stays open), checked every argument and advances no positions: this
     * method advances each to its limit.
     *
     * @return how many datagrams the kernel accepted; stops at the first full buffer
     */
    int send(int fd, SocketState state, boolean ipv6Socket, InetSocketAddress to, ByteBuffer[] datagrams, int offset,
             int count, Object local) {
        Scratch s = scratch.get();
        int socklen = writeSockaddr(s.h, to, ipv6Socket);
        ByteBuffer h = s.h;
        int sent = 0;
        int i = offset;
        int end = offset + count;
        while (i < end) {
            // Fill one sendmmsg call: messages of one datagram, or of a run of equal-sized ones.
            boolean segment = state.segmentation;
            int messages = 0;
            int dataUsed = 0;
            int firstOfCall = i;
            int[] perMessage = s.perMessage;
            while (i < end && messages < MAX_MESSAGES) {
                int size = datagrams[i].remaining();
                if (dataUsed + size > SCRATCH_BYTES) {
                    if (messages == 0) {
                        throw new IllegalStateException("a datagram of " + size + " bytes exceeds the scratch area");
                    }
                    break;
                }
                int run = 1;
                if (segment && size > 0 && size <= MAX_SEGMENT_SIZE) {
                    // Extend the run with datagrams of the same size; the last may be shorter.
                    long total = size;
                    while (i + run < end && run < MAX_SEGMENTS) {
                        int next = datagrams[i + run].remaining();
                        if (next > size || next == 0 || total + next > MAX_SEGMENTED_BYTES
                                || dataUsed + total + next > SCRATCH_BYTES) {
                            break;
                        }
                        total += next;
                        run++;
                        if (next < size) {
                            break;
                        }
                    }
                }
                long base = s.dataAddress + dataUsed;
                int messageBytes = 0;
                for (int k = 0; k < run; k++) {
                    ByteBuffer d = datagrams[i + k];
                    int n = d.remaining();
                    // Absolute copy: the positions move only once the batch is done (a retry re-reads them).
                    s.dataView.put(dataUsed + messageBytes, d, d.position(), n);
                    messageBytes += n;
                }
                int header = messages * MMSGHDR;
                int iov = IOV_AREA + messages * IOVEC;
                h.putLong(header, s.headersAddress + SOCKADDR_AREA);
                h.putInt(header + 8, socklen);
                h.putLong(header + 16, s.headersAddress + iov);
                h.putLong(header + 24, 1);
                if (run > 1) {
                    int cmsg = CMSG_AREA + messages * CMSG_SPACE_U16;
                    h.putLong(cmsg, CMSG_LEN_U16);
                    h.putInt(cmsg + 8, SOL_UDP);
                    h.putInt(cmsg + 12, UDP_SEGMENT);
                    h.putShort(cmsg + 16, (short) datagrams[i].remaining());
                    h.putLong(header + 32, s.headersAddress + cmsg);
                    h.putLong(header + 40, CMSG_SPACE_U16);
                } else {
                    h.putLong(header + 32, 0);
                    h.putLong(header + 40, 0);
                }
                h.putInt(header + 48, 0);
                h.putInt(header + 56, 0);
                h.putLong(iov, base);
                h.putLong(iov + 8, messageBytes);
                perMessage[messages] = run;
                dataUsed += messageBytes;
                messages++;
                i += run;
            }
            // Hand the call's messages to the kernel; sendmmsg may take fewer than offered.
            int done = 0;
            int datagramIndex = firstOfCall;
            while (done < messages) {
                int accepted;
                try {
                    accepted = LibC.sendmmsg(fd, s.headersAddress + (long) done * MMSGHDR, messages - done, 0);
                } catch (LastErrorException e) {
                    int errno = e.getErrorCode();
                    if (errno == EAGAIN || errno == ENOBUFS) {
                        // The socket buffer is full: the rest is dropped, as send() drops it.
                        finish(datagrams, offset, end);
                        return sent;
                    }
                    if (perMessage[done] > 1 && state.segmentation && !unreachable(errno)) {
                        // The kernel or device refuses segmentation: resend this call's rest without it.
                        state.segmentation = false;
                        LOG.log(System.Logger.Level.WARNING, "UDP " + local + ": segmented send (UDP_SEGMENT) failed with errno "
                                + errno + "; this socket sends batches without segmentation from now on");
                        i = datagramIndex;
                        break;
                    }
                    // Unreachable or filtered destination: that message is lost; the ARQ above recovers.
                    if (!state.failureLogged) {
                        state.failureLogged = true;
                        LOG.log(System.Logger.Level.WARNING, "UDP batch send from " + local + " to " + to + " failed with errno "
                                + errno + " (further failures logged at DEBUG)");
                    } else {
                        LOG.log(System.Logger.Level.DEBUG, "UDP batch send from " + local + " to " + to + " failed with errno " + errno);
                    }
                    datagramIndex += perMessage[done];
                    done++;
                    continue;
                }
                for (int k = 0; k < accepted; k++) {
                    sent += perMessage[done + k];
                    datagramIndex += perMessage[done + k];
                }
                done += accepted;
            }
        }
        finish(datagrams, offset, end);
        return sent;
    }

    private static void finish(ByteBuffer[] datagrams, int from, int to) {
        for (int k = from; k < to; k++) {
            datagrams[k].position(datagrams[k].limit());
        }
    }

    /** Writes the destination's {@code sockaddr_in} / {@code sockaddr_in6} and returns its length. */
    private static int writeSockaddr(ByteBuffer h, InetSocketAddress to, boolean ipv6Socket) {
        InetAddress address = to.getAddress();
        int port = to.getPort();
        int at = SOCKADDR_AREA;
        for (int k = 0; k < SOCKADDR; k += 8) {
            h.putLong(at + k, 0);
        }
        // sa_family is in host order (the buffer's native order), the port in network order.
        h.put(at + 2, (byte) (port >>> 8));
        h.put(at + 3, (byte) port);
        byte[] raw = address.getAddress();
        if (!ipv6Socket) {
            h.putShort(at, (short) AF_INET);
            h.put(at + 4, raw, 0, 4);
            return 16;
        }
        h.putShort(at, (short) AF_INET6);
        if (address instanceof Inet4Address) {
            h.put(at + 8 + 10, (byte) 0xff);
            h.put(at + 8 + 11, (byte) 0xff);
            h.put(at + 8 + 12, raw, 0, 4);
        } else {
            h.put(at + 8, raw, 0, 16);
            h.putInt(at + 24, ((java.net.Inet6Address) address).getScopeId());
        }
        return 28;
    }
}
