/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HT_DIFF_H
#define HT_DIFF_H

/* `heaptrail diff [-n N] [--grown-only] OLD NEW`; argv[0] is "diff". */
int diff_main(int argc, char **argv);

#endif
