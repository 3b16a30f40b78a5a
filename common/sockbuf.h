/* Large UDP socket buffers for the two daemons: a burst that arrives while
 * a daemon waits for a CPU must not overflow the kernel's default
 * (~200 KiB), which silently drops it. */
#ifndef COMMON_SOCKBUF_H
#define COMMON_SOCKBUF_H

enum { SOCKBUF_DEFAULT = 8 << 20 };

/* Asks for `bytes` of send and receive buffer: as root past
 * net.core.[rw]mem_max (SO_*BUFFORCE, as wireguard-go does), else as much
 * as those sysctls allow. Best effort: a smaller buffer still works. */
void sockbuf_grow(int fd, int bytes);

#endif
