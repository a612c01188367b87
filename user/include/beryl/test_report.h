/*
 * The record a test program sends on its PA_USER0 channel when it finishes (written by
 * the test framework, user/lib/test_main.c; read by userboot). A Beryl protocol, not
 * part of Zircon's processargs.
 */
#ifndef BERYL_TEST_REPORT_H
#define BERYL_TEST_REPORT_H

#include <stdint.h>

#define BERYL_TEST_REPORT_MAGIC ((uint32_t)0x54535242u) /* "BRST" */

typedef struct beryl_test_report {
    uint32_t magic;
    uint32_t passed;
    uint32_t failed;
    uint32_t reserved;
} beryl_test_report_t;

#endif
