// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Shell-like word splitting without expansion (see words.h). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/array.h"
#include "util/words.h"

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n';
}

/* Whether an unquoted word is one of the shell's operators. */
static bool is_operator(const char *w)
{
	static const char *const ops[] = {"|", "||", "&",  "&&", ";",  ";;", "<",
					  ">", ">>", "<<", "<&", ">&", "<>", ">|"};
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (!strcmp(w, ops[i]))
			return true;
	return false;
}

void words_free(char **argv)
{
	for (char **a = argv; a && *a; a++)
		free(*a);
	free(argv);
}

static char **fail(char **argv, size_t n, char *word, char *err, size_t errlen, const char *why)
{
	argv[n] = NULL;
	words_free(argv);
	free(word);
	snprintf(err, errlen, "%s", why);
	return NULL;
}

char **words_split(const char *s, char *err, size_t errlen)
{
	size_t len = strlen(s);
	/* no word is longer than s, and there are at most len/2+1 words */
	char **argv = calloc(len / 2 + 2, sizeof(*argv));
	char *word = malloc(len + 1);
	size_t n = 0;

	if (!argv || !word) {
		free(argv);
		free(word);
		snprintf(err, errlen, "%s", "out of memory");
		return NULL;
	}
	for (const char *p = s;;) {
		while (blank(*p))
			p++;
		if (!*p)
			break;
		size_t w = 0;
		bool quoted = false; /* some of the word was quoted or escaped */
		while (*p && !blank(*p)) {
			char c = *p++;
			if (c == '\\') {
				if (!*p)
					return fail(argv, n, word, err, errlen,
						    "a backslash ends the command");
				if (*p == '\n') {
					p++; /* line continuation */
				} else {
					quoted = true;
					word[w++] = *p++;
				}
			} else if (c == '\'') {
				quoted = true;
				while (*p && *p != '\'')
					word[w++] = *p++;
				if (!*p)
					return fail(argv, n, word, err, errlen,
						    "a single quote is not closed");
				p++;
			} else if (c == '"') {
				quoted = true;
				while (*p && *p != '"') {
					if (*p == '\\' && p[1] && strchr("$`\"\\\n", p[1])) {
						if (p[1] != '\n')
							word[w++] = p[1];
						p += 2;
					} else {
						word[w++] = *p++;
					}
				}
				if (!*p)
					return fail(argv, n, word, err, errlen,
						    "a double quote is not closed");
				p++;
			} else {
				word[w++] = c;
			}
		}
		/* a line continuation alone makes no word */
		if (!w && !quoted)
			continue;
		word[w] = '\0';
		if (!quoted && is_operator(word)) {
			char why[128];
			snprintf(why, sizeof(why),
				 "'%s' would be a shell operator: quote it, or run a shell (sh -c "
				 "'...')",
				 word);
			return fail(argv, n, word, err, errlen, why);
		}
		if (!(argv[n] = strdup(word)))
			return fail(argv, n, word, err, errlen, "out of memory");
		n++;
	}
	free(word);
	if (!n) {
		free(argv);
		snprintf(err, errlen, "%s", "no command in it");
		return NULL;
	}
	argv[n] = NULL;
	return argv;
}

/* Characters a word may hold and still read back unquoted. */
static bool plain(const char *w)
{
	if (!*w)
		return false;
	for (; *w; w++)
		if (!strchr(
			"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_@%+=:,./-",
			*w))
			return false;
	return true;
}

char *words_join(char *const *argv)
{
	char *out = NULL;
	size_t n = 0, cap = 0;

	for (char *const *a = argv; *a; a++) {
		/* worst case: every byte a quote ('\'' is four bytes) */
		size_t need = n + 4 * strlen(*a) + 4;
		if (ARRAY_RESERVE(out, cap, need)) {
			free(out);
			return NULL;
		}
		if (a != argv)
			out[n++] = ' ';
		if (plain(*a)) {
			memcpy(out + n, *a, strlen(*a));
			n += strlen(*a);
			continue;
		}
		out[n++] = '\'';
		for (const char *c = *a; *c; c++) {
			if (*c == '\'') {
				memcpy(out + n, "'\\''", 4);
				n += 4;
			} else {
				out[n++] = *c;
			}
		}
		out[n++] = '\'';
	}
	if (ARRAY_RESERVE(out, cap, n + 1)) {
		free(out);
		return NULL;
	}
	out[n] = '\0';
	return out;
}
