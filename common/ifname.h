/* The one rule for a link's name, which is also its TUN interface's name,
 * its config file's (NAME.conf) and its control socket's (NAME.sock): the
 * rule of wg-quick, 1-15 characters of [A-Za-z0-9_=+.-], not "." or "..".
 * Every name the kernel would take oddly (a '%' pattern, ':' aliases, '/',
 * whitespace, bytes beyond ASCII) is outside it. tun/, tunnel/ and
 * tunnelctl all check names here, and word their errors with IFNAME_RULE. */
#ifndef COMMON_IFNAME_H
#define COMMON_IFNAME_H

#include <stdbool.h>

/* IFNAMSIZ - 1: the longest name the kernel keeps. */
enum { IFNAME_MAX_LEN = 15 };

/* The rule in words, for error messages ("... is not " IFNAME_RULE). */
#define IFNAME_RULE "1-15 characters of [A-Za-z0-9_=+.-]"

/* True when `name` follows the rule above; false for NULL. */
bool ifname_valid(const char *name);

#endif
