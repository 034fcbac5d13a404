/* Shared include for cmocka unit tests. */
#ifndef DM_TEST_H
#define DM_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

/* Path of ../shared from the project root (tests run from the project root). */
#define DM_SHARED_DIR "../shared"

#endif
