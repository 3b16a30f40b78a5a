/* UDP generic receive offload (UDP_GRO): the kernel may hand a socket a run
 * of datagrams from one sender as one buffer, with their size in a control
 * message. Both daemons receive this way. */
#ifndef COMMON_UDP_GRO_H
#define COMMON_UDP_GRO_H

#include <stddef.h>
#include <sys/socket.h>

#ifndef UDP_GRO
#define UDP_GRO 104
#endif

/* The segment size of a coalesced receive, from its control messages; 0
 * when the buffer is one datagram. */
size_t udp_gro_segment_size(struct msghdr *mh);

#endif
