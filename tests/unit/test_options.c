// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* session/options.c: every option and positional form, the command forms
 * (-- and -c), every refusal (-1 and one line on stderr), durations (at
 * most a year) and sizes. */
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include "unit.h"
#include "session/options.h"

static struct options o;
static int rc;

/* The path given for an output format (out/registry.h), by option name. */
static const char *output(const char *option)
{
	for (int i = 0; i < OUT_NFORMATS; i++)
		if (!strcmp(out_formats[i].option, option))
			return o.outputs.path[i];
	return "(no such format)";
}
static char err[2048], out[8192];

static void slurp(FILE *f, char *buf, size_t len)
{
	rewind(f);
	size_t n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
}

/* options_parse on argv, with what it printed captured. */
static void parse(int argc, char **argv)
{
	FILE *ef = tmpfile(), *of = tmpfile();
	int save_err = dup(2), save_out = dup(1);

	fflush(stdout);
	dup2(fileno(ef), 2);
	dup2(fileno(of), 1);
	optind = 0; /* getopt starts over */
	rc = options_parse(argc, argv, &o);
	fflush(stdout);
	fflush(stderr);
	dup2(save_err, 2);
	dup2(save_out, 1);
	close(save_err);
	close(save_out);
	slurp(ef, err, sizeof(err));
	slurp(of, out, sizeof(out));
}

#define PARSE(...)                                                                                 \
	do {                                                                                       \
		char *argv_[] = {"leakbpf", __VA_ARGS__, NULL};                                    \
		parse((int)(sizeof(argv_) / sizeof(argv_[0])) - 1, argv_);                         \
	} while (0)

/* Accepted, silently. */
#define GOOD(...)                                                                                  \
	do {                                                                                       \
		PARSE(__VA_ARGS__);                                                                \
		CHECK_EQ(rc, 0);                                                                   \
		CHECK_STR(err, "");                                                                \
	} while (0)

static int lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* Refused: -1, one line on stderr that starts with "leakbpf: " and names
 * `what` (the value or the option at fault), nothing on stdout. */
#define BAD(what, ...)                                                                             \
	do {                                                                                       \
		PARSE(__VA_ARGS__);                                                                \
		CHECK_EQ(rc, -1);                                                                  \
		CHECK_EQ(lines(err), 1);                                                           \
		CHECK(!strncmp(err, "leakbpf: ", 9));                                              \
		CHECK(strstr(err, what) != NULL);                                                  \
		CHECK_STR(out, "");                                                                \
	} while (0)

static void test_defaults(void)
{
	GOOD("-p", "123");
	CHECK_EQ(o.pid, 123);
	CHECK(o.command == NULL);
	CHECK(o.interval_s == 5);
	CHECK_EQ(o.count, 0);
	CHECK(o.duration_s == 0);
	CHECK(o.min_age_s == 0);
	CHECK_EQ(o.top, 10);
	CHECK_EQ(o.min_size, 0);
	CHECK(o.max_size == UINT64_MAX);
	CHECK(!o.native && !o.no_python && !o.py_alloc_all && !o.verbose && !o.quiet);
	CHECK(!output("folded") && !output("flamegraph") && !output("json") && !output("pprof") &&
	      !output("speedscope"));
	CHECK_EQ(o.output_stacks, 1000);
	CHECK(o.snapshot_every_s == 0);
	CHECK(o.snapshot_dir == NULL);
	CHECK_EQ(o.snapshot_keep, 48);
	CHECK_EQ(o.max_tracked, 4 << 20);
	CHECK_EQ(o.max_stacks, 256 << 10);
}

/* --output-stacks: stacks per output file, 0 for all */
static void test_output_stacks(void)
{
	GOOD("-p", "1", "--output-stacks", "0");
	CHECK_EQ(o.output_stacks, 0);
	GOOD("-p", "1", "--output-stacks=64M");
	CHECK_EQ(o.output_stacks, 64 << 20);
}

static void test_target_forms(void)
{
	GOOD("--pid", "42");
	CHECK_EQ(o.pid, 42);
	GOOD("--pid=43");
	CHECK_EQ(o.pid, 43);
	GOOD("-p44");
	CHECK_EQ(o.pid, 44);
	GOOD("-p", "4194304"); /* the kernel's largest pid */
	CHECK_EQ(o.pid, 4194304);
	GOOD("-c", "sleep 1");
	CHECK_STR(o.command, "sleep 1");
	CHECK_EQ(o.pid, 0);
	GOOD("--command", "python3 -c 'x = 1'");
	CHECK_STR(o.command, "python3 -c 'x = 1'");
	GOOD("--command=ls -l");
	CHECK_STR(o.command, "ls -l");
}

static void test_every_option(void)
{
	GOOD("-p", "1", "-d", "10", "-o", "500", "-T", "5", "-z", "4k", "-Z", "1M", "--native",
	     "--no-python", "--py-alloc", "all", "--folded", "f.txt", "--flamegraph", "f.svg",
	     "--json", "-", "--pprof", "p.pb.gz", "--speedscope", "s.json", "--snapshot-every",
	     "30s", "--snapshot-dir", "/tmp/snaps", "--snapshot-keep", "3", "--max-tracked", "2048",
	     "--max-stacks", "100", "-q", "-v");
	CHECK(o.duration_s == 10);
	CHECK(o.min_age_s == 0.5);
	CHECK_EQ(o.top, 5);
	CHECK_EQ(o.min_size, 4096);
	CHECK_EQ(o.max_size, 1 << 20);
	CHECK(o.native && o.no_python && o.py_alloc_all && o.quiet && o.verbose);
	CHECK_STR(output("folded"), "f.txt");
	CHECK_STR(output("flamegraph"), "f.svg");
	CHECK_STR(output("json"), "-");
	CHECK_STR(output("pprof"), "p.pb.gz");
	CHECK_STR(output("speedscope"), "s.json");
	CHECK(o.snapshot_every_s == 30);
	CHECK_STR(o.snapshot_dir, "/tmp/snaps");
	CHECK_EQ(o.snapshot_keep, 3);
	CHECK_EQ(o.max_tracked, 2048);
	CHECK_EQ(o.max_stacks, 100);

	/* long forms of the short options, and --opt=value */
	GOOD("--pid=1", "--duration=2m", "--older=1s", "--top=7", "--min-size=64", "--max-size=2G",
	     "--quiet", "--verbose", "--py-alloc=objects");
	CHECK(o.duration_s == 120);
	CHECK(o.min_age_s == 1);
	CHECK_EQ(o.top, 7);
	CHECK_EQ(o.min_size, 64);
	CHECK_EQ(o.max_size, 2ULL << 30);
	CHECK(o.quiet && o.verbose && !o.py_alloc_all);

	/* bundled short options */
	GOOD("-qvp", "9");
	CHECK(o.quiet && o.verbose);
	CHECK_EQ(o.pid, 9);

	/* the bounds of counted options */
	GOOD("-p", "1", "-T", "100000", "--snapshot-keep", "100000", "--max-tracked", "1024",
	     "--max-stacks", "64");
	CHECK_EQ(o.top, 100000);
	CHECK_EQ(o.snapshot_keep, 100000);
	CHECK_EQ(o.max_tracked, 1024);
	CHECK_EQ(o.max_stacks, 64);
	GOOD("-p", "1", "--max-tracked", "4G", "--max-stacks", "64M");
	CHECK(o.max_tracked == 1ULL << 32);
	CHECK_EQ(o.max_stacks, 1 << 26);
	/* counts take size suffixes */
	GOOD("-p", "1", "-T", "1k");
	CHECK_EQ(o.top, 1024);
	/* -z equal to -Z is a range of one size */
	GOOD("-p", "1", "-z", "64", "-Z", "64");
	/* -o 0 counts everything */
	GOOD("-p", "1", "-o", "0");
	CHECK(o.min_age_s == 0);
}

static void test_positionals(void)
{
	GOOD("-p", "1", "2");
	CHECK(o.interval_s == 2);
	CHECK_EQ(o.count, 0);
	GOOD("-p", "1", "2", "3");
	CHECK(o.interval_s == 2);
	CHECK_EQ(o.count, 3);
	GOOD("-p", "1", "0.5", "1k"); /* INTERVAL is a duration, COUNT a count */
	CHECK(o.interval_s == 0.5);
	CHECK_EQ(o.count, 1024);
	GOOD("-p", "1", "250ms");
	CHECK(o.interval_s == 0.25);
	/* options may follow the positionals */
	GOOD("3", "-p", "1", "4", "-q");
	CHECK(o.interval_s == 3);
	CHECK_EQ(o.count, 4);
	CHECK(o.quiet);
	/* after "--" nothing is an option */
	GOOD("-p", "1", "--", "7");
	CHECK(o.interval_s == 7);
}

static void test_help_and_version(void)
{
	PARSE("-h");
	CHECK_EQ(rc, 1);
	CHECK(!strncmp(out, "Usage: leakbpf", 14));
	CHECK_STR(err, "");
	PARSE("--help");
	CHECK_EQ(rc, 1);
	CHECK(strstr(out, "--snapshot-every") != NULL);
	PARSE("--version");
	CHECK_EQ(rc, 1);
	CHECK_STR(out, "leakbpf " LEAKBPF_VERSION "\n");
	/* help wins over a missing target */
	PARSE("-q", "-h");
	CHECK_EQ(rc, 1);
}

static void test_bad_values(void)
{
	BAD("'0'", "-p", "0");
	BAD("'-5'", "-p", "-5");
	BAD("'abc'", "-p", "abc");
	BAD("'12x'", "-p", "12x");
	BAD("'4194305'", "-p", "4194305");
	BAD("'99999999999999999999'", "-p", "99999999999999999999");
	BAD("-c/--command", "-c", "");
	BAD("'0'", "-p", "1", "-d", "0");
	BAD("'-1'", "-p", "1", "-d", "-1");
	BAD("'abc'", "-p", "1", "-d", "abc");
	BAD("'5x'", "-p", "1", "-d", "5x");
	BAD("'inf'", "-p", "1", "-d", "inf");
	BAD("'-1'", "-p", "1", "-o", "-1");
	BAD("'soon'", "-p", "1", "-o", "soon");
	BAD("'0'", "-p", "1", "-T", "0");
	BAD("'100001'", "-p", "1", "-T", "100001");
	BAD("'ten'", "-p", "1", "-T", "ten");
	BAD("'x'", "-p", "1", "-z", "x");
	BAD("'1T'", "-p", "1", "-Z", "1T");
	BAD("'-4k'", "-p", "1", "-z", "-4k");
	BAD("'some'", "-p", "1", "--py-alloc", "some");
	BAD("'0'", "-p", "1", "--snapshot-every", "0", "--snapshot-dir", "d");
	BAD("'0'", "-p", "1", "--snapshot-keep", "0");
	BAD("'100001'", "-p", "1", "--snapshot-keep", "100001");
	BAD("'1023'", "-p", "1", "--max-tracked", "1023");
	BAD("'5G'", "-p", "1", "--max-tracked", "5G");
	BAD("'63'", "-p", "1", "--max-stacks", "63");
	BAD("'65M'", "-p", "1", "--max-stacks", "65M");
	BAD("'-1'", "-p", "1", "--output-stacks", "-1");
	BAD("'65M'", "-p", "1", "--output-stacks", "65M");
	/* positionals */
	BAD("INTERVAL", "-p", "1", "0");
	BAD("'x'", "-p", "1", "x");
	BAD("COUNT", "-p", "1", "5", "0");
	BAD("'y'", "-p", "1", "5", "y");
	BAD("'9'", "-p", "1", "5", "3", "9");
}

static void test_bad_combinations_and_syntax(void)
{
	BAD("nothing to trace", "-q");
	BAD("-p and -c", "-p", "1", "-c", "ls");
	BAD("--min-size", "-p", "1", "-z", "2k", "-Z", "1k");
	BAD("--snapshot-dir", "-p", "1", "--snapshot-every", "1s");
	BAD("--snapshot-every", "-p", "1", "--snapshot-dir", "d");
	BAD("'--bogus'", "-p", "1", "--bogus");
	BAD("unknown option", "-p", "1", "-x");
	BAD("-p", "-p");
	BAD("--json", "-p", "1", "--json");
	BAD("only one output", "-p", "1", "--json", "-", "--folded", "-");
	BAD("needs a value", "-p", "1", "-T");
}

/* The command forms (issue 10): -- CMD ARG... exactly; -c "STRING" split
 * as a shell splits words; never both; nothing after --. */
static void test_commands(void)
{
	GOOD("--", "sleep", "1");
	CHECK(o.command == NULL);
	CHECK(o.command_argv && !strcmp(o.command_argv[0], "sleep") &&
	      !strcmp(o.command_argv[1], "1") && !o.command_argv[2]);
	/* options, INTERVAL and COUNT before --; the command's own options after */
	GOOD("-q", "2", "3", "--json", "r.json", "--", "python3", "-c", "print(1)", "-q");
	CHECK(o.quiet && o.interval_s == 2 && o.count == 3);
	CHECK_STR(output("json"), "r.json");
	CHECK(o.command_argv && !strcmp(o.command_argv[1], "-c") &&
	      !strcmp(o.command_argv[2], "print(1)") && !strcmp(o.command_argv[3], "-q") &&
	      !o.command_argv[4]);
	/* an option's value may be "--" and does not end leakbpf's arguments */
	GOOD("--json", "--", "--", "true");
	CHECK_STR(output("json"), "--");
	CHECK(o.command_argv && !strcmp(o.command_argv[0], "true"));
	PARSE("-d", "--", "--", "true");
	CHECK_EQ(rc, -1);		       /* "--" as -d's value is no duration */
	GOOD("--jso", "x.json", "--", "true"); /* abbreviated long options */
	CHECK_STR(output("json"), "x.json");
	CHECK(o.command_argv && !strcmp(o.command_argv[0], "true"));
	/* -c: one string, words as a shell splits them, nothing expanded */
	GOOD("-c", "perl -e my@a=map{{k=>$_,v=>[$_]}}1..2000;print(scalar(@a))");
	CHECK(o.command_argv && !strcmp(o.command_argv[0], "perl") &&
	      !strcmp(o.command_argv[2], "my@a=map{{k=>$_,v=>[$_]}}1..2000;print(scalar(@a))") &&
	      !o.command_argv[3]);
	GOOD("-c", "python3 -c 'x = \"$HOME\"' a\\ b");
	CHECK(o.command_argv && !strcmp(o.command_argv[2], "x = \"$HOME\"") &&
	      !strcmp(o.command_argv[3], "a b"));
	options_free(&o);
	BAD("-c/--command", "-c", "python3 -c 'unclosed");
	BAD("'|'", "-c", "make | tee log");
	/* -c sleep -- 1 used to run sleep without its argument */
	BAD("-c", "-c", "sleep", "--", "1");
	BAD("nothing after --", "-q", "--");
	BAD("INTERVAL", "-p", "1", "--", "ls"); /* with -p no command follows -- */
	/* with -p, "--" only ends the options: INTERVAL and COUNT may follow */
	GOOD("-p", "1", "--", "7", "2");
	CHECK(o.interval_s == 7 && o.count == 2 && !o.command_argv);
	BAD("'x'", "-p", "1", "--", "7", "2", "x");
}

/* Durations beyond a year are refused (they overflowed into 0.1 s); so is
 * leakbpf's own pid. */
static void test_absurd_values(void)
{
	BAD("'2e10'", "-p", "1", "-d", "2e10");
	BAD("'1e99'", "-p", "1", "-d", "1e99");
	BAD("INTERVAL", "-p", "1", "1e99");
	BAD("'1e99'", "-p", "1", "-o", "1e99");
	BAD("'1e99'", "-p", "1", "--snapshot-every", "1e99", "--snapshot-dir", "d");
	GOOD("-p", "1", "-d", "8760h");
	CHECK(o.duration_s == 365 * 86400.0);
	BAD("'8761h'", "-p", "1", "-d", "8761h");
	char self[32];
	snprintf(self, sizeof(self), "%d", (int)getpid());
	BAD("itself", "-p", self);
}

/* The growth mode: -p, -c, or -a (which needs it); nothing of the exact
 * mode's allocation filters. */
static void test_growth_mode(void)
{
	GOOD("--growth", "-p", "7");
	CHECK(o.growth && !o.all);
	CHECK_EQ(o.pid, 7);
	GOOD("--growth", "-c", "sleep 1");
	CHECK(o.growth);
	GOOD("--growth", "-a", "2", "3");
	CHECK(o.growth && o.all);
	CHECK(o.interval_s == 2);
	CHECK_EQ(o.count, 3);
	GOOD("--all", "--growth");
	CHECK(o.all);
	GOOD("--growth", "-p", "1", "-o", "1s", "--json", "f", "-q");
	BAD("-a needs --growth", "-a");
	BAD("not with -p or -c", "--growth", "-a", "-p", "1");
	BAD("not with -p or -c", "--growth", "-a", "-c", "ls");
	BAD("traces none", "--growth", "-p", "1", "-z", "64");
	BAD("traces none", "--growth", "-p", "1", "-Z", "1M");
	BAD("traces none", "--growth", "-p", "1", "--py-alloc", "objects");
	/* allocation windows: 1 s a minute by default, LEN/EVERY */
	GOOD("--growth", "-p", "7");
	CHECK(!o.alloc_windows);
	GOOD("--growth", "--alloc-windows", "-p", "7");
	CHECK(o.alloc_windows && o.window_s == 1 && o.window_every_s == 60);
	GOOD("--growth", "--alloc-windows=250ms/10", "-c", "ls");
	CHECK(o.window_s == 0.25 && o.window_every_s == 10);
	BAD("is for the growth mode", "--alloc-windows", "-p", "7");
	BAD("not with -a", "--growth", "-a", "--alloc-windows");
	BAD("LEN/EVERY", "--growth", "--alloc-windows=2s/1s", "-p", "7");
	BAD("LEN/EVERY", "--growth", "--alloc-windows=1s", "-p", "7");
	BAD("LEN/EVERY", "--growth", "--alloc-windows=/5", "-p", "7");
	BAD("LEN/EVERY", "--growth", "--alloc-windows=1s/x", "-p", "7");
}

static void test_durations(void)
{
	CHECK(parse_duration("10", 1) == 10);
	CHECK(parse_duration("1.5", 1) == 1.5);
	CHECK(parse_duration("10s", 1) == 10);
	CHECK(parse_duration("250ms", 1) == 0.25);
	CHECK(parse_duration("2m", 1) == 120);
	CHECK(parse_duration("2min", 1) == 120);
	CHECK(parse_duration("1h", 1) == 3600);
	CHECK(parse_duration("1e3", 1) == 1000);
	CHECK(parse_duration("0", 1) == 0);
	/* the bare unit is the caller's: -o counts milliseconds */
	CHECK(parse_duration("500", 0.001) == 0.5);
	CHECK(parse_duration("2s", 0.001) == 2);
	const char *bad[] = {"",   " 1",   "-1", "+",	"1x",  "1 s",
			     "1S", "1sec", "s",	 "inf", "nan", "1e999"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(parse_duration(bad[i], 1) == -1);
	CHECK(parse_duration(NULL, 1) == -1);
}

static void test_sizes(void)
{
	static const struct {
		const char *text;
		uint64_t bytes;
	} good[] = {
	    {"0", 0},
	    {"64", 64},
	    {"4k", 4096},
	    {"4K", 4096},
	    {"4KiB", 4096},
	    {"4kb", 4096},
	    {"4KB", 4096},
	    {"1M", 1 << 20},
	    {"1MiB", 1 << 20},
	    {"2G", 2ULL << 30},
	    {"2gib", 2ULL << 30},
	    {"18446744073709551615", UINT64_MAX},
	    {"17179869183G", 17179869183ULL << 30},
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		uint64_t v = 12345;
		CHECK_EQ(parse_size(good[i].text, &v), 0);
		CHECK(v == good[i].bytes);
	}
	static const char *const bad[] = {"",
					  "-1",
					  "+1",
					  " 4",
					  "4 k",
					  "4T",
					  "4kx",
					  "4ib",
					  "k",
					  "18446744073709551616",
					  "17179869184G",
					  "0x10",
					  "4kB!"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t v = 777;
		CHECK_EQ(parse_size(bad[i], &v), -1);
		CHECK_EQ(v, 777); /* untouched on refusal */
	}
	CHECK_EQ(parse_size(NULL, &(uint64_t){0}), -1);
}

int main(void)
{
	RUN(test_defaults);
	RUN(test_target_forms);
	RUN(test_every_option);
	RUN(test_positionals);
	RUN(test_help_and_version);
	RUN(test_output_stacks);
	RUN(test_bad_values);
	RUN(test_bad_combinations_and_syntax);
	RUN(test_commands);
	RUN(test_absurd_values);
	RUN(test_growth_mode);
	RUN(test_durations);
	RUN(test_sizes);
	return unit_done();
}
