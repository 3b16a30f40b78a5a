/* The allowed-keys file (allowed.h): parsed line by line, sorted for
 * bsearch, so the per-datagram check is O(log n) and needs no crypto. */
#include "rendezvous/allowed.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/keys.h"

static int cmp_key(const void *a, const void *b)
{
	return memcmp(a, b, RDV_KEY_LEN);
}

/* The line without its comment and surrounding blanks, in place. */
static char *trim(char *line)
{
	char *hash = strchr(line, '#'), *end;

	if (hash)
		*hash = '\0';
	while (*line == ' ' || *line == '\t')
		line++;
	end = line + strlen(line);
	while (end > line && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' ||
			      end[-1] == '\r'))
		*--end = '\0';
	return line;
}

int rdv_allowed_load(const char *path, struct rdv_allowed *out, size_t *bad_line)
{
	struct rdv_allowed a = { 0 };
	size_t cap = 0, line_no = 0;
	char line[256];
	FILE *f;
	int r = 0;

	*bad_line = 0;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *text;

		line_no++;
		if (!strchr(line, '\n') && !feof(f)) {
			r = -EINVAL; /* longer than any key line can be */
			break;
		}
		text = trim(line);
		if (!*text)
			continue;
		if (a.n == cap) {
			size_t ncap = cap ? 2 * cap : 16;
			void *p = realloc(a.keys, ncap * sizeof(*a.keys));

			if (!p) {
				r = -ENOMEM;
				break;
			}
			a.keys = p;
			cap = ncap;
		}
		if (keys_from_base64_text(a.keys[a.n], text) < 0) {
			r = -EINVAL;
			break;
		}
		a.n++;
	}
	if (r == 0 && ferror(f))
		r = -EIO;
	fclose(f);
	if (r < 0) {
		if (r == -EINVAL)
			*bad_line = line_no;
		free(a.keys);
		return r;
	}
	if (a.n) {
		size_t n = 1;

		qsort(a.keys, a.n, sizeof(*a.keys), cmp_key);
		for (size_t i = 1; i < a.n; i++)
			if (memcmp(a.keys[i], a.keys[n - 1], RDV_KEY_LEN) != 0)
				memmove(a.keys[n++], a.keys[i], RDV_KEY_LEN);
		a.n = n;
	}
	*out = a;
	return 0;
}

void rdv_allowed_free(struct rdv_allowed *a)
{
	free(a->keys);
	a->keys = NULL;
	a->n = 0;
}

bool rdv_allowed_has(const struct rdv_allowed *a, const uint8_t key[static RDV_KEY_LEN])
{
	return a->n && bsearch(key, a->keys, a->n, sizeof(*a->keys), cmp_key) != NULL;
}
