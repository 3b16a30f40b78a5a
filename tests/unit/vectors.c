/* Loading the published test vectors (see vectors.h). */
#include "vectors.h"

#include <stdio.h>
#include <stdlib.h>

json_t *vectors_load(const char *relpath)
{
	const char *dir = getenv("TUNNEL_VECTORS_DIR");
	char path[4096];
	json_error_t err;
	json_t *root;

	if (!dir) {
		fprintf(stderr, "error: TUNNEL_VECTORS_DIR is not set (run the test through ctest)\n");
		return NULL;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, relpath);
	root = json_load_file(path, 0, &err);
	if (!root)
		fprintf(stderr, "error: cannot load vectors %s: %s\n", path, err.text);
	return root;
}
