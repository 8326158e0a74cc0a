package io.peerlink.transport.udp;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;

import io.peerlink.Endpoint;
import io.peerlink.tck.TtlWitness;

import java.time.Duration;

/**
 * Sees the IP TTL of received datagrams, which the JDK cannot: a plain IPv4 UDP socket made
 * through JNA with {@code IP_RECVTTL}, read with {@code recvmsg} and its {@code IP_TTL} control
 * message. On loopback no router decrements the TTL, so what arrives is exactly what was sent.
 * Linux x86-64/aarch64 (LP64) only: {@link #openOrNull()} returns null elsewhere.
 */
final class RecvTtlWitness implements TtlWitness {

    private static final int AF_INET = 2;
    private static final int SOCK_DGRAM = 2;
    private static final int SOL_SOCKET = 1;
    private static final int SO_RCVTIMEO = 20;
    private static final int SO_RCVBUF = 8;
    private static final int IPPROTO_IP = 0;
    private static final int IP_TTL = 2;
    private static final int IP_RECVTTL = 12;
    private static final int EAGAIN = 11;

    interface Libc extends Library {
        int socket(int domain, int type, int protocol) throws LastErrorException;

        int setsockopt(int fd, int level, int name, Pointer value, int length) throws LastErrorException;

        int bind(int fd, Pointer address, int length) throws LastErrorException;

        int getsockname(int fd, Pointer address, IntByReference length) throws LastErrorException;

        long recvmsg(int fd, Pointer message, int flags) throws LastErrorException;

        int close(int fd);
    }

    private static final Libc LIBC = Platform.isLinux() && Native.POINTER_SIZE == 8 ? Native.load("c", Libc.class) : null;

    private final int fd;
    private final int port;
    private final Memory buffer = new Memory(65_536);
    private final Memory control = new Memory(256);
    private final Memory iov = new Memory(16);
    private final Memory msghdr = new Memory(56);
    private final Memory name = new Memory(16);
    private byte[] lastPayload = new byte[0];

    /** @return a witness bound to 127.0.0.1 on a free port, or null where this cannot work */
    static RecvTtlWitness openOrNull() {
        return LIBC == null ? null : new RecvTtlWitness();
    }

    private RecvTtlWitness() {
        fd = LIBC.socket(AF_INET, SOCK_DGRAM, 0);
        try {
            Memory one = new Memory(4);
            one.setInt(0, 1);
            LIBC.setsockopt(fd, IPPROTO_IP, IP_RECVTTL, one, 4);
            Memory size = new Memory(4);
            size.setInt(0, 4 << 20); // room for bursts of tiny datagrams (the kernel may clamp it)
            LIBC.setsockopt(fd, SOL_SOCKET, SO_RCVBUF, size, 4);
            Memory address = new Memory(16);
            address.clear();
            address.setShort(0, (short) AF_INET);                    // sin_family, host order
            address.setShort(2, (short) 0);                          // sin_port 0: any
            address.write(4, new byte[] {127, 0, 0, 1}, 0, 4);       // sin_addr, network order
            LIBC.bind(fd, address, 16);
            IntByReference length = new IntByReference(16);
            LIBC.getsockname(fd, address, length);
            port = ((address.getByte(2) & 0xFF) << 8) | (address.getByte(3) & 0xFF);
        } catch (RuntimeException e) {
            LIBC.close(fd);
            throw e;
        }
    }

    @Override
    public Endpoint endpoint() {
        return new Endpoint("udp", "127.0.0.1", port, "");
    }

    @Override
    public int nextTtl(Duration timeout) {
        Memory tv = new Memory(16); // struct timeval {long tv_sec; long tv_usec}
        long micros = Math.max(1, timeout.toNanos() / 1000);
        tv.setLong(0, micros / 1_000_000);
        tv.setLong(8, micros % 1_000_000);
        LIBC.setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, tv, 16);

        iov.setPointer(0, buffer);
        iov.setLong(8, buffer.size());
        control.clear();
        msghdr.clear();
        msghdr.setPointer(0, name);            // msg_name
        msghdr.setInt(8, 16);                  // msg_namelen
        msghdr.setPointer(16, iov);            // msg_iov
        msghdr.setLong(24, 1);                 // msg_iovlen
        msghdr.setPointer(32, control);        // msg_control
        msghdr.setLong(40, control.size());    // msg_controllen
        try {
            long received = LIBC.recvmsg(fd, msghdr, 0);
            lastPayload = buffer.getByteArray(0, (int) received);
        } catch (LastErrorException e) {
            if (e.getErrorCode() == EAGAIN) {
                return -1;
            }
            throw e;
        }
        long controlLength = msghdr.getLong(40);
        long offset = 0;
        // cmsghdr {size_t cmsg_len; int cmsg_level; int cmsg_type; data...}, 8-byte aligned.
        while (offset + 16 <= controlLength) {
            long cmsgLen = control.getLong(offset);
            int level = control.getInt(offset + 8);
            int type = control.getInt(offset + 12);
            if (level == IPPROTO_IP && type == IP_TTL) {
                return control.getInt(offset + 16);
            }
            if (cmsgLen < 16) {
                break;
            }
            offset += (cmsgLen + 7) & ~7L;
        }
        throw new IllegalStateException("datagram arrived without an IP_TTL control message");
    }

    /** @return the payload of the datagram whose TTL {@link #nextTtl} returned last */
    byte[] lastPayload() {
        return lastPayload.clone();
    }

    @Override
    public void close() {
        LIBC.close(fd);
    }
}
