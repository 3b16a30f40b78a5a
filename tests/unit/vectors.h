/* The published test vectors in ../shared/vectors (README there), found
 * through $TUNNEL_VECTORS_DIR, which ctest sets. Shared by the known-answer
 * tests so each says only what it checks. */
#ifndef TESTS_UNIT_VECTORS_H
#define TESTS_UNIT_VECTORS_H

#include <jansson.h>

/* Parses VECTORS_DIR/relpath ("aead/rfc8439.json"). Returns NULL, with one
 * "skip:" line on stderr, when the vectors are not there: the test's main
 * then returns 77 (skipped). The caller owns the reference. */
json_t *vectors_load(const char *relpath);

#endif
