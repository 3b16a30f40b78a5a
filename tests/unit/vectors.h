/* The published test vectors in tests/vectors (README there names each
 * source), found through $TUNNEL_VECTORS_DIR, which ctest sets. Shared by
 * the known-answer tests so each says only what it checks. */
#ifndef TESTS_UNIT_VECTORS_H
#define TESTS_UNIT_VECTORS_H

#include <jansson.h>

/* Parses VECTORS_DIR/relpath ("aead/rfc8439.json"). Returns NULL, with one
 * "error:" line on stderr, when the file is missing or not JSON: the test's
 * main then fails (a clean clone holds every vector, so a missing one is a
 * broken tree, never a reason to skip). The caller owns the reference. */
json_t *vectors_load(const char *relpath);

#endif
