/* UDP segmentation offloads, as both daemons use them. Receiving
 * (UDP_GRO): the kernel may hand a socket a run of datagrams from one
 * sender as one buffer, with their size in a control message. Sending
 * (UDP_SEGMENT, "GSO"): one message of equal-sized datagrams (the last may
 * be shorter) to one destination, cut by the kernel, its size in a
 * control message. */
#ifndef COMMON_UDP_OFFLOAD_H
#define COMMON_UDP_OFFLOAD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103 /* linux/udp.h */
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif

/* Room for the control message of one GSO send. */
union udp_gso_control {
	char buf[CMSG_SPACE(sizeof(uint16_t))];
	struct cmsghdr align;
};

/* The segment size of a coalesced receive, from its control messages; 0
 * when the buffer is one datagram. */
size_t udp_gro_segment_size(struct msghdr *mh);

/* Makes mh one GSO send of `segment`-byte datagrams: its control message,
 * in `control`, says the size. */
void udp_gso_set_segment(struct msghdr *mh, union udp_gso_control *control, uint16_t segment);

#endif
