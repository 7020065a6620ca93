/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HT_OFFLINE_H
#define HT_OFFLINE_H

/*
 * `heaptrail symbolize [--debug-dir DIR]... [--no-demangle] [REPORT]`:
 * names the module+offset frames of a saved text report (argv[0] is
 * "symbolize"), from debug files found by the build IDs that the report's
 * "unsymbolized module:" lines keep.
 */
int symbolize_main(int argc, char **argv);

#endif
