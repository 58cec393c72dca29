/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A command line split into words as a POSIX shell splits them (XCU 2.2,
 * 2.3), and nothing more: nothing is expanded or run.
 *  - Words are separated by unquoted blanks (space, tab, newline).
 *  - A backslash outside quotes keeps the next character as it is; a
 *    backslash before a newline joins the lines.
 *  - Single quotes keep everything up to the next single quote.
 *  - Double quotes keep everything up to the next unescaped double quote;
 *    inside them a backslash quotes only $ ` " \ and newline.
 *  - '' and "" make an empty word.
 * $, `, *, ?, [, ~, {, }, (, ), ;, | and the like are ordinary characters
 * inside a word. A word that is, unquoted, exactly a shell operator (|, ||,
 * &, &&, ;, ;;, <, >, >>, <<, <&, >&, <>, >|) is refused: a shell would
 * have run a pipeline or a redirection there, which this cannot do.
 */
#ifndef UTIL_WORDS_H
#define UTIL_WORDS_H

#include <stddef.h>

/* The words of s as a NULL-terminated argv (free with words_free), or NULL
 * with a one-line reason in err: an unterminated quote, a trailing
 * backslash, an operator, no word at all, or no memory. */
char **words_split(const char *s, char *err, size_t errlen);
void words_free(char **argv);
/* Words joined by spaces, each quoted when the split would otherwise not
 * give it back (for showing a command); NULL without memory. */
char *words_join(char *const *argv);

#endif
