/* UDP_GRO and UDP_SEGMENT control messages: see common/udp_offload.h. */
#include "common/udp_offload.h"

#include <netinet/in.h>
#include <netinet/udp.h>
#include <string.h>

size_t udp_gro_segment_size(struct msghdr *mh)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level == IPPROTO_UDP && c->cmsg_type == UDP_GRO &&
		    c->cmsg_len >= CMSG_LEN(sizeof(int))) {
			int size;

			memcpy(&size, CMSG_DATA(c), sizeof(size));
			return size > 0 ? (size_t)size : 0;
		}
	}
	return 0;
}

void udp_gso_set_segment(struct msghdr *mh, union udp_gso_control *control, uint16_t segment)
{
	struct cmsghdr *c;

	mh->msg_control = control->buf;
	mh->msg_controllen = sizeof(control->buf);
	c = CMSG_FIRSTHDR(mh);
	c->cmsg_level = IPPROTO_UDP;
	c->cmsg_type = UDP_SEGMENT;
	c->cmsg_len = CMSG_LEN(sizeof(segment));
	memcpy(CMSG_DATA(c), &segment, sizeof(segment));
}
