/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HT_TRACE_H
#define HT_TRACE_H

/* heaptrail [options] -p PID | -- COMMAND: a whole trace run. */
int trace_main(int argc, char **argv);

#endif
