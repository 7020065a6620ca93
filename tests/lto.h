/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HT_TEST_LTO_H
#define HT_TEST_LTO_H

#include <stddef.h>

#define LTO_HEADER 16

char *lto_new_buf(size_t n);
char *lto_new_record(size_t n);

#endif
