/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Text from the target (function and file names read from its memory,
 * module paths from its maps, its comm) made safe for a terminal and for
 * line-based files: C0 control characters, DEL, C1 control characters
 * (U+0080-U+009F), the bidirectional formatting characters (marks,
 * embeddings, overrides, isolates) and the Unicode line and paragraph
 * separators, and every byte that is not valid UTF-8 are written as
 * \xHH (one per byte), and a backslash as \\, so the text reads back
 * unambiguously and no byte of it can move the cursor, retitle a window,
 * ring a bell, end a line or show the text around it reversed. Everything else (printable ASCII,
 * valid UTF-8) is copied as is. `also` names more ASCII characters to write as \xHH
 * (";" in folded stacks, where it separates frames); NULL for none.
 */
#ifndef UTIL_ESCAPE_H
#define UTIL_ESCAPE_H

#include <stddef.h>
#include <stdio.h>

/* Write s escaped to out ("(null)" for NULL). */
void escape_put(FILE *out, const char *s, const char *also);
/* s escaped into buf (always NUL-terminated, cut before an escape that
 * does not fit whole); returns buf. */
const char *escape_str(const char *s, const char *also, char *buf, size_t len);

#endif
