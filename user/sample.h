/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HT_SAMPLE_H
#define HT_SAMPLE_H

#include <stdint.h>

/*
 * --sample: the tables the BPF side samples and weighs with (it has no
 * floating point). draw_fd: HT_SAMPLE_DRAWS quantiles of the exponential
 * distribution of mean rate, the distances between samples; weight_fd:
 * w(s) = s / (1 - exp(-s / rate)) at s = k * sample_step(rate), which
 * makes the sum over samples an unbiased estimate of the bytes allocated.
 */
int sample_tables_fill(int draw_fd, int weight_fd, uint64_t rate);

/* The tables' entries, for tests of what the BPF side does with them. */
uint64_t sample_draw_at(unsigned int k, uint64_t rate);
uint64_t sample_step(uint64_t rate);
uint64_t sample_weight_at(unsigned int k, uint64_t rate);
/* w(s) itself */
double sample_weight(double size, double rate);

#endif
