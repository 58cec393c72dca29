/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Binary search in arrays sorted by one field: the one search every
 * address, range and id table uses. */
#ifndef UTIL_SEARCH_H
#define UTIL_SEARCH_H

#include <stddef.h>

/* Index of the first of a[0..n) whose member `field` (written `.name` or `->name`) is
 * greater than key: the last
 * element with field <= key (the range that may hold key) is at i - 1. */
#define SORTED_UPPER(a, n, field, key)                                                             \
	__extension__({                                                                            \
		size_t lo_ = 0, hi_ = (n);                                                         \
		while (lo_ < hi_) {                                                                \
			size_t mid_ = lo_ + (hi_ - lo_) / 2;                                       \
			if ((a)[mid_] field <= (key))                                              \
				lo_ = mid_ + 1;                                                    \
			else                                                                       \
				hi_ = mid_;                                                        \
		}                                                                                  \
		lo_;                                                                               \
	})

/* Index of the first of a[0..n) whose `field` is not less than key (where
 * key is, or would be inserted). */
#define SORTED_LOWER(a, n, field, key)                                                             \
	__extension__({                                                                            \
		size_t lo_ = 0, hi_ = (n);                                                         \
		while (lo_ < hi_) {                                                                \
			size_t mid_ = lo_ + (hi_ - lo_) / 2;                                       \
			if ((a)[mid_] field < (key))                                               \
				lo_ = mid_ + 1;                                                    \
			else                                                                       \
				hi_ = mid_;                                                        \
		}                                                                                  \
		lo_;                                                                               \
	})

#endif
