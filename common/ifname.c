/* Link and interface names: see ifname.h for the rule. */
#include "common/ifname.h"

#include <string.h>

/* ASCII only, whatever the locale (isalnum would follow it). */
static bool name_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("_=+.-", c));
}

bool ifname_valid(const char *name)
{
	size_t len;

	if (!name)
		return false;
	len = strnlen(name, IFNAME_MAX_LEN + 1);
	if (len == 0 || len > IFNAME_MAX_LEN || !strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!name_char((unsigned char)name[i]))
			return false;
	}
	return true;
}
