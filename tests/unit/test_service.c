/* The link's systemd notifications (tunnel/service.c): service_settled
 * runs after every wake-up of the loop and formats the status text only
 * when something it shows changed; every such change still reaches
 * NOTIFY_SOCKET as one STATUS= (READY=1 the first time the link is up),
 * and a wake-up that changed nothing sends nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "tunnel/service.h"
#include "tunnel/tunnel.h"

struct fixture {
	char dir[64];
	char path[96];
	int fd;           /* our end of NOTIFY_SOCKET */
	struct tunnel *t; /* only what service.c reads is set */
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_service.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/notify", f->dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->path);
	f->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(f->fd >= 0);
	assert_int_equal(bind(f->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(setenv("NOTIFY_SOCKET", f->path, 1), 0);
	f->t = calloc(1, sizeof(*f->t));
	assert_non_null(f->t);
	f->t->peer.state = LINK_CONNECTING;
	snprintf(f->t->peer.reason, sizeof(f->t->peer.reason), "starting");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	unsetenv("NOTIFY_SOCKET");
	close(f->fd);
	unlink(f->path);
	rmdir(f->dir);
	free(f->t);
	free(f);
	return 0;
}

/* The next notification, "" when none is waiting. */
static const char *next_message(struct fixture *f)
{
	static char buf[600];
	ssize_t n = recv(f->fd, buf, sizeof(buf) - 1, 0);

	if (n < 0) {
		assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
		n = 0;
	}
	buf[n] = '\0';
	return buf;
}

/* One wake-up: the messages it sent, or "" for none. */
static const char *settle(struct fixture *f)
{
	service_settled(f->t);
	return next_message(f);
}

static void set_endpoint(struct rdv_endpoint *ep, const char *ip, uint16_t port)
{
	*ep = (struct rdv_endpoint){ .family = AF_INET, .port = port };
	assert_int_equal(inet_pton(AF_INET, ip, ep->addr), 1);
}

static void test_each_change_notified_once(void **state)
{
	struct fixture *f = *state;
	struct tunnel *t = f->t;

	assert_string_equal(settle(f), "STATUS=connecting: starting");
	assert_string_equal(settle(f), "");
	assert_string_equal(settle(f), "");

	snprintf(t->peer.reason, sizeof(t->peer.reason), "handshake not answered yet");
	assert_string_equal(settle(f), "STATUS=connecting: handshake not answered yet");
	assert_string_equal(settle(f), "");

	t->peer.state = LINK_PUNCHING;
	assert_string_equal(settle(f), "STATUS=punching: handshake not answered yet");

	/* Up: READY=1 once, with the text. */
	t->peer.state = LINK_ESTABLISHED;
	t->peer.path = PATH_DIRECT;
	t->peer.has_endpoint = true;
	set_endpoint(&t->peer.endpoint, "192.0.2.7", 51820);
	assert_string_equal(settle(f), "READY=1\nSTATUS=established, direct path to 192.0.2.7:51820");
	assert_string_equal(settle(f), "");

	/* While ready, each change of what the text shows. */
	t->peer.endpoint.port = 51821;
	assert_string_equal(settle(f), "STATUS=established, direct path to 192.0.2.7:51821");
	assert_string_equal(settle(f), "");
	set_endpoint(&t->peer.endpoint, "198.51.100.9", 51821);
	assert_string_equal(settle(f), "STATUS=established, direct path to 198.51.100.9:51821");
	t->peer.path = PATH_RELAY;
	assert_string_equal(settle(f), "STATUS=established, relay path to 198.51.100.9:51821");
	assert_string_equal(settle(f), "");

	/* A reason that the established text does not show changes nothing. */
	snprintf(t->peer.reason, sizeof(t->peer.reason), "not shown");
	assert_string_equal(settle(f), "");

	/* Relayed: the server's address, and each change of it. */
	t->peer.state = LINK_RELAYED;
	t->meet.has_relay = true;
	t->meet.relay_server = 1;
	set_endpoint(&t->meet.servers[1].addr, "203.0.113.5", 3478);
	assert_string_equal(settle(f), "STATUS=relayed through 203.0.113.5:3478");
	assert_string_equal(settle(f), "");
	t->meet.servers[1].addr.port = 3479;
	assert_string_equal(settle(f), "STATUS=relayed through 203.0.113.5:3479");
	/* The peer's endpoint is not what a relayed link shows. */
	t->peer.endpoint.port = 1;
	assert_string_equal(settle(f), "");

	/* Down again: the state and the reason, no second READY=1. */
	t->peer.state = LINK_DOWN;
	snprintf(t->peer.reason, sizeof(t->peer.reason), "peer gone");
	assert_string_equal(settle(f), "STATUS=down: peer gone");
	assert_string_equal(settle(f), "");
	snprintf(t->peer.reason, sizeof(t->peer.reason), "peer still gone");
	assert_string_equal(settle(f), "STATUS=down: peer still gone");
}

/* A reload re-sends READY=1 with the text; the wake-up after it, with
 * nothing changed, sends nothing. */
static void test_reload_then_quiet(void **state)
{
	struct fixture *f = *state;
	struct tunnel *t = f->t;
	const char *ready = "READY=1\nSTATUS=established, direct path to 192.0.2.7:51820";

	t->peer.state = LINK_ESTABLISHED;
	t->peer.path = PATH_DIRECT;
	t->peer.has_endpoint = true;
	set_endpoint(&t->peer.endpoint, "192.0.2.7", 51820);
	assert_string_equal(settle(f), ready);
	service_reloaded(t);
	assert_string_equal(next_message(f), ready);
	assert_string_equal(settle(f), "");
	t->peer.endpoint.port = 7;
	assert_string_equal(settle(f), "STATUS=established, direct path to 192.0.2.7:7");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_each_change_notified_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reload_then_quiet, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
