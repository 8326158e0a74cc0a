#!/usr/bin/env python3
"""A delay line on a TUN device, for kernels without netem (docs/natlab.md, "Delay").

usage: delayline.py DEVICE DELAY_MS

Creates the TUN device DEVICE (no packet information header) in the current network namespace,
prints "ready DEVICE" once it is open, and writes every packet read from it back into it
DELAY_MS milliseconds later, in order: policy routing sends packets into the device, and they come
back out of it, delayed, as if received on it. Runs until killed.
"""
import collections
import fcntl
import os
import select
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000


def main():
    name, delay = sys.argv[1], float(sys.argv[2]) / 1000.0
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    print("ready " + name, flush=True)
    queue = collections.deque()
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    while True:
        timeout = -1
        if queue:
            timeout = max(0.0, (queue[0][0] - time.monotonic()) * 1000.0)
        poller.poll(timeout)
        now = time.monotonic()
        while True:
            try:
                packet = os.read(fd, 65536)
            except BlockingIOError:
                break
            queue.append((now + delay, packet))
        while queue and queue[0][0] <= now:
            try:
                os.write(fd, queue.popleft()[1])
            except OSError:
                pass  # the kernel refused one packet (no route, buffer full): it is lost, as on a wire


if __name__ == "__main__":
    main()
