/* sd_notify(3) through libsystemd: it finds NOTIFY_SOCKET (a path or an
 * abstract socket), sends one datagram with our credentials and does
 * nothing when the variable is unset. Failures are only logged at debug:
 * a service manager that does not listen is not the link's problem. */
#include "common/notify.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "common/log.h"

static void send_state(const char *state)
{
	int r = sd_notify(0, state);

	if (r < 0)
		log_debug("sd_notify: %s", strerror(-r));
}

/* Status lines are one line of text: a newline would start a new field. */
static void append_status(char *buf, size_t size, const char *status)
{
	size_t len = strlen(buf);

	if (!status || len + sizeof("STATUS=") >= size)
		return;
	snprintf(buf + len, size - len, "STATUS=%s", status);
	for (char *p = buf + len; *p; p++)
		if (*p == '\n')
			*p = ' ';
}

void notify_ready(const char *status)
{
	char msg[512] = "READY=1\n";

	append_status(msg, sizeof(msg), status);
	send_state(msg);
}

void notify_status(const char *status)
{
	char msg[512] = "";

	append_status(msg, sizeof(msg), status);
	send_state(msg);
}

void notify_reloading(const char *status)
{
	char msg[512];
	struct timespec ts;

	/* MONOTONIC_USEC lets Type=notify-reload (systemd 253) match the
	 * READY=1 that ends this reload; older managers ignore it. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%" PRIu64 "\n",
		 (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u);
	append_status(msg, sizeof(msg), status);
	send_state(msg);
}

void notify_stopping(void)
{
	send_state("STOPPING=1");
}
