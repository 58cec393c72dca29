// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* util/words.c: -c "STRING" split as a POSIX shell splits words, without
 * expanding anything; the join that shows an argv back. */
#include <stdlib.h>
#include "unit.h"
#include "util/words.h"

static char err[256];

/* Split s and compare with the expected words (NULL-terminated). */
static void check_split(const char *s, const char *const *want, int line)
{
	char **got = words_split(s, err, sizeof(err));
	size_t i = 0;

	unit_checks++;
	if (!got) {
		unit_failed++;
		fprintf(stderr, "%s:%d: %s: split of [%s] failed: %s\n", __FILE__, line,
			unit_current, s, err);
		return;
	}
	for (; want[i] && got[i]; i++)
		if (strcmp(want[i], got[i]))
			break;
	if (want[i] || got[i]) {
		unit_failed++;
		fprintf(stderr, "%s:%d: %s: split of [%s]: word %zu is [%s], want [%s]\n", __FILE__,
			line, unit_current, s, i, got[i] ? got[i] : "(end)",
			want[i] ? want[i] : "(end)");
	}
	words_free(got);
}

#define SPLIT(s, ...)                                                                              \
	do {                                                                                       \
		const char *const want_[] = {__VA_ARGS__, NULL};                                   \
		check_split((s), want_, __LINE__);                                                 \
	} while (0)

/* s is refused, with a reason containing `why`. */
#define REFUSED(s, why)                                                                            \
	do {                                                                                       \
		err[0] = '\0';                                                                     \
		char **r_ = words_split((s), err, sizeof(err));                                    \
		CHECK(r_ == NULL);                                                                 \
		words_free(r_);                                                                    \
		CHECK(strstr(err, (why)) != NULL);                                                 \
	} while (0)

static void test_blanks(void)
{
	SPLIT("sleep 1", "sleep", "1");
	SPLIT("  sleep\t\t1 \n", "sleep", "1");
	SPLIT("a", "a");
	SPLIT("a\nb", "a", "b");
}

static void test_single_quotes(void)
{
	SPLIT("python3 -c 'x = [1, 2]'", "python3", "-c", "x = [1, 2]");
	SPLIT("echo 'a\\b'", "echo", "a\\b"); /* no escapes inside */
	SPLIT("echo 'say \"hi\"'", "echo", "say \"hi\"");
	SPLIT("echo 'a'b'c'", "echo", "abc"); /* quoted parts join into one word */
	SPLIT("echo ''", "echo", "");
	SPLIT("'' x", "", "x");
}

static void test_double_quotes(void)
{
	SPLIT("echo \"a b\"", "echo", "a b");
	SPLIT("echo \"a\\\"b\"", "echo", "a\"b");
	SPLIT("echo \"\\$HOME \\\\ \\`\"", "echo", "$HOME \\ `");
	/* other backslashes are kept */
	SPLIT("echo \"a\\nb\\'\"", "echo", "a\\nb\\'");
	SPLIT("echo \"\"", "echo", "");
	SPLIT("echo \"it's\"", "echo", "it's");
	SPLIT("echo \"a\\\nb\"", "echo", "ab"); /* line continuation */
}

static void test_backslashes(void)
{
	SPLIT("echo a\\ b", "echo", "a b");
	SPLIT("echo \\'", "echo", "'");
	SPLIT("echo \\\\", "echo", "\\");
	SPLIT("echo a\\\nb", "echo", "ab");
	SPLIT("echo \\\n", "echo"); /* a continuation alone is no word */
	SPLIT("find . -name x -exec rm {} \\;", "find", ".", "-name", "x", "-exec", "rm", "{}",
	      ";");
}

static void test_nothing_expanded(void)
{
	SPLIT("echo $HOME ~ * ?.c [ab] `id` $(id)", "echo", "$HOME", "~", "*", "?.c", "[ab]",
	      "`id`", "$(id)");
	/* the perl one-liner of issue 10: every character inside a word kept */
	SPLIT("perl -e my@a=map{{k=>$_,v=>[$_]}}1..2000;print(scalar(@a))", "perl", "-e",
	      "my@a=map{{k=>$_,v=>[$_]}}1..2000;print(scalar(@a))");
	SPLIT("a;b a|b a&&b x>y", "a;b", "a|b", "a&&b", "x>y");
	SPLIT("FOO=1 env", "FOO=1", "env");
	SPLIT("# not a comment", "#", "not", "a", "comment");
}

static void test_refused(void)
{
	REFUSED("", "no command");
	REFUSED("   \t\n", "no command");
	REFUSED("echo 'abc", "single quote");
	REFUSED("echo \"abc", "double quote");
	REFUSED("echo \"a\\\"", "double quote");
	REFUSED("echo abc\\", "backslash");
	REFUSED("make | tee log", "'|'");
	REFUSED("a && b", "'&&'");
	REFUSED("sleep 1 ;", "';'");
	REFUSED("cmd > out", "'>'");
	REFUSED("cmd 2 >> out", "'>>'");
	REFUSED("cmd &", "'&'");
	/* quoted, an operator is an ordinary word */
	SPLIT("echo '|' \\; \"&&\"", "echo", "|", ";", "&&");
}

static void test_join(void)
{
	char *argv1[] = {"sleep", "1", NULL};
	char *argv2[] = {"python3", "-c", "x = 'a'", "", "/usr/bin/a-b_c.d", NULL};
	char *j = words_join(argv1);

	CHECK_STR(j, "sleep 1");
	free(j);
	j = words_join(argv2);
	CHECK_STR(j, "python3 -c 'x = '\\''a'\\''' '' /usr/bin/a-b_c.d");
	/* and it splits back into the same words */
	char **back = words_split(j, err, sizeof(err));
	CHECK(back != NULL);
	for (int i = 0; back && i < 5; i++)
		CHECK_STR(back[i], argv2[i]);
	CHECK(back && back[5] == NULL);
	words_free(back);
	free(j);
}

int main(void)
{
	RUN(test_blanks);
	RUN(test_single_quotes);
	RUN(test_double_quotes);
	RUN(test_backslashes);
	RUN(test_nothing_expanded);
	RUN(test_refused);
	RUN(test_join);
	return unit_done();
}
