// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <math.h>

#include <bpf/bpf.h>

#include "heaptrail.h"
#include "sample.h"

double sample_weight(double size, double rate)
{
	/* the limit at 0 is rate: a tiny allocation is sampled only when
	 * the countdown runs out right there */
	return size > 0 ? size / -expm1(-size / rate) : rate;
}

uint64_t sample_draw_at(unsigned int k, uint64_t rate)
{
	/* quantiles at the middle of HT_SAMPLE_DRAWS equal slices of
	 * probability: their mean is the rate within 0.05%; + 1 keeps every
	 * distance positive */
	return (uint64_t)(-log((k + 0.5) / HT_SAMPLE_DRAWS) * rate) + 1;
}

uint64_t sample_step(uint64_t rate)
{
	return rate / 64 ? rate / 64 : 1;
}

uint64_t sample_weight_at(unsigned int k, uint64_t rate)
{
	return (uint64_t)llround(sample_weight((double)k * sample_step(rate),
					       rate));
}

int sample_tables_fill(int draw_fd, int weight_fd, uint64_t rate)
{
	uint64_t v;
	__u32 k;

	for (k = 0; k < HT_SAMPLE_DRAWS; k++) {
		v = sample_draw_at(k, rate);
		if (bpf_map_update_elem(draw_fd, &k, &v, BPF_ANY))
			return -errno;
	}
	for (k = 0; k <= HT_SAMPLE_STEPS; k++) {
		v = sample_weight_at(k, rate);
		if (bpf_map_update_elem(weight_fd, &k, &v, BPF_ANY))
			return -errno;
	}
	return 0;
}
