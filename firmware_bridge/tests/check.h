/* The host tests' one assertion: CHECK(cond, printf-style message) counts a pass or prints the failure and counts it.
 * Each test program includes this once and ends with printf("%d passed, %d failed\n", passed, failed).
 */
#ifndef EB_TESTS_CHECK_H
#define EB_TESTS_CHECK_H

#include <stdio.h>

static int passed, failed;
#define CHECK(cond, ...)                                                                                       \
    do {                                                                                                       \
        if (cond) passed++;                                                                                    \
        else { failed++; fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); fprintf(stderr, __VA_ARGS__);   \
               fputc('\n', stderr); }                                                                          \
    } while (0)

#endif
