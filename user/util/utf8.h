/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The one UTF-8 decoder: JSON, XML and terminal text all ask it what a
 * byte sequence is before they copy or escape it. */
#ifndef UTIL_UTF8_H
#define UTIL_UTF8_H

#include <stdbool.h>
#include <stdint.h>

/* Length (1-4) of the valid UTF-8 sequence at s, or 0 when it is not one
 * (truncated, overlong, surrogate, beyond U+10FFFF). A NUL byte is never
 * part of a longer sequence, so s may end anywhere. *cp gets the code point
 * when cp is not NULL. */
int utf8_seq_len(const char *s, uint32_t *cp);

/* Code points that reorder or break the text around them without being
 * control characters: bidirectional marks, embeddings, overrides and
 * isolates (a name could show reversed, "Trojan Source"), and the Unicode
 * line and paragraph separators. */
bool utf8_reorders(uint32_t cp);

#endif
