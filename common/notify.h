/* The systemd service notification protocol (sd_notify(3)) for both
 * daemons, run as Type=notify units: READY=1 when the service is what its
 * unit promises (a link: established or relayed; the rendezvous server:
 * listening), STATUS= lines that `systemctl status` shows, RELOADING=1 and
 * READY=1 around a reload, STOPPING=1 when going down.
 *
 * Every call is a no-op outside systemd (no NOTIFY_SOCKET), so tests and
 * `tunnelctl up` from a shell behave as before. Only the main process of
 * the unit may notify (NotifyAccess=main): both daemons do it themselves. */
#ifndef COMMON_NOTIFY_H
#define COMMON_NOTIFY_H

/* The service is ready; `status` (may be NULL) replaces the status line. */
void notify_ready(const char *status);

/* Replaces the status line `systemctl status` shows. */
void notify_status(const char *status);

/* A reload begins: call notify_ready() once it is applied or refused. */
void notify_reloading(const char *status);

/* The service is stopping. */
void notify_stopping(void);

#endif
