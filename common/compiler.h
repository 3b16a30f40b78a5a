/* Small compiler helpers shared by every folder. */
#ifndef COMMON_COMPILER_H
#define COMMON_COMPILER_H

/* Fallible functions return 0 or a negative errno; callers must look. */
#define must_check __attribute__((warn_unused_result))

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

#endif
