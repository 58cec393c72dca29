// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* `leakbpf objects -p PID [INTERVAL [COUNT]]`: censuses of a running CPython
 * heap from outside, a table after each, JSON of the last at the end. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "cli/commands.h"
#include "out/objects.h"
#include "out/registry.h"
#include "python/census.h"
#include "session/options.h"
#include "util/escape.h"
#include "util/outfile.h"

static const char objects_usage[] =
    "Usage: leakbpf objects [options] -p PID [INTERVAL [COUNT]]\n"
    "\n"
    "A census of a running CPython 3.8-3.13 process's heap, read from outside\n"
    "(reads of its memory: no probes, no code run in it): objects by type and how\n"
    "they grow, the containers that hold what grows, and cycles nothing can reach.\n"
    "One census at attach, then every INTERVAL seconds (default 10), COUNT more\n"
    "times (default: until Ctrl-C).\n"
    "\n"
    "  -p, --pid PID            the CPython process\n"
    "  -T, --top N              types in each table (default 20)\n"
    "      --holders N          holders in each table (default 10)\n"
    "      --pause              stop the target during each census (ptrace; the\n"
    "                           table says for how long); without it the target runs\n"
    "      --json FILE|-        write the last census as JSON (schema\n"
    "                           leakbpf/objects/v1) when leakbpf exits\n"
    "      --max-objects N      objects read per census (default 4M; ~70 bytes each)\n"
    "      --max-items N        items read per container (default 16M)\n"
    "  -q, --quiet              only the last table\n"
    "  -h, --help               this help\n";

struct objects_opts {
	pid_t pid;
	double interval_s;
	long count; /* censuses after the first; -1: until a signal */
	unsigned top;
	struct census_options census;
	const char *json;
	bool quiet;
};

static int usage_error(const char *fmt, const char *arg)
{
	fputs("leakbpf objects: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs("\nTry 'leakbpf objects --help'.\n", stderr);
	return -1;
}

/* 0 to run, 1 after --help, -1 after a usage error. */
static int parse_args(int argc, char **argv, struct objects_opts *o)
{
	static const struct option longopts[] = {
	    {"pid", required_argument, NULL, 'p'},
	    {"top", required_argument, NULL, 'T'},
	    {"holders", required_argument, NULL, 'H'},
	    {"pause", no_argument, NULL, 'P'},
	    {"children", no_argument, NULL, 'C'},
	    {"json", required_argument, NULL, 'j'},
	    {"max-objects", required_argument, NULL, 'M'},
	    {"max-items", required_argument, NULL, 'I'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	uint64_t v;
	char *end;
	int c;
	memset(o, 0, sizeof(*o));
	o->interval_s = 10;
	o->count = -1;
	o->top = 20;
	o->census.holders = 10;
	o->census.max_objects = 4u << 20;
	o->census.max_items = 16u << 20;
	optind = 0;
	while ((c = getopt_long(argc, argv, ":p:T:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'C':
			return usage_error("%s", "--children: the census reads one process (a "
						 "tracing mode follows children)");
		case 'p':
			if (strchr(optarg, ','))
				return usage_error("the census reads one process: -p '%s' names "
						   "several",
						   optarg);
			if (parse_pid(optarg, &o->pid))
				return usage_error("invalid PID '%s'", optarg);
			break;
		case 'T':
			if (!(o->top = cmd_parse_top(optarg)))
				return usage_error("%s", "bad -T/--top");
			break;
		case 'H':
			if (!(o->census.holders = cmd_parse_top(optarg)))
				return usage_error("%s", "bad --holders");
			break;
		case 'P':
			o->census.pause = true;
			break;
		case 'j':
			o->json = optarg;
			break;
		case 'M':
			if (parse_size(optarg, &v) || v < 1000 || v > (1u << 29))
				return usage_error("--max-objects '%s': expected 1000 to 512M",
						   optarg);
			o->census.max_objects = (size_t)v;
			break;
		case 'I':
			if (parse_size(optarg, &v) || v < 1 || v > (1u << 29))
				return usage_error("--max-items '%s': expected 1 to 512M", optarg);
			o->census.max_items = (size_t)v;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'h':
			fputs(objects_usage, stdout);
			return 1;
		case ':':
			return usage_error("%s needs an argument", argv[optind - 1]);
		default:
			return usage_error("unknown option %s", argv[optind - 1]);
		}
	}
	if (!o->pid)
		return usage_error("%s", "-p PID is required");
	if (optind < argc) {
		o->interval_s = parse_duration(argv[optind], 1);
		if (o->interval_s < 0.1 || o->interval_s > 86400)
			return usage_error("INTERVAL '%s': expected 0.1 s to 1 day", argv[optind]);
		optind++;
	}
	if (optind < argc) {
		errno = 0;
		long n = strtol(argv[optind], &end, 10);
		if (errno || end == argv[optind] || *end || n < 0 || n > 100000000)
			return usage_error("COUNT '%s': expected a number", argv[optind]);
		o->count = n;
		optind++;
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	o->census.interval_s = o->interval_s;
	return 0;
}

/* Errors may quote the target (its name, its interpreter's path). */
static void say_error(const char *err)
{
	fputs("leakbpf: ", stderr);
	escape_put(stderr, err, NULL);
	fputc('\n', stderr);
}

static int json_writer(const void *report, FILE *out)
{
	return objects_json_write(report, out);
}

/* Wait until `until` (CLOCK_MONOTONIC) or a signal: true on a signal. */
static bool wait_signal(const sigset_t *set, const struct timespec *until)
{
	for (;;) {
		struct timespec now, left;
		clock_gettime(CLOCK_MONOTONIC, &now);
		left.tv_sec = until->tv_sec - now.tv_sec;
		left.tv_nsec = until->tv_nsec - now.tv_nsec;
		if (left.tv_nsec < 0) {
			left.tv_nsec += 1000000000L;
			left.tv_sec--;
		}
		if (left.tv_sec < 0)
			left = (struct timespec){0};
		int sig = sigtimedwait(set, NULL, &left);
		if (sig > 0)
			return true;
		if (errno == EAGAIN)
			return false;
	}
}

int cmd_objects(int argc, char **argv)
{
	struct objects_opts o;
	struct obj_report r;
	char err[512];
	int rc = parse_args(argc, argv, &o);
	if (rc)
		return rc > 0 ? 0 : 2;

	/* signals wait until a census is over: a paused target is always
	 * resumed before leakbpf exits (and the kernel resumes it when leakbpf
	 * is killed) */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);

	/* an output that cannot be written fails now, not after the censuses */
	if (o.json && strcmp(o.json, "-") && outfile_check(o.json, err, sizeof(err))) {
		fprintf(stderr, "leakbpf: cannot write JSON %s: %s\n", o.json, err);
		return 1;
	}
	struct census_session *s = census_open(o.pid, &o.census, err, sizeof(err));
	if (!s) {
		say_error(err);
		return 1;
	}
	FILE *table = o.json && !strcmp(o.json, "-") ? stderr : stdout;
	bool have = false, printed = false;
	rc = 0;
	struct timespec next;
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (long n = 0;; n++) {
		if (census_take(s, &r, err, sizeof(err))) {
			say_error(err);
			rc = have ? 0 : 1;
			break;
		}
		have = true;
		r.leakbpf_version = LEAKBPF_VERSION;
		struct timespec now = {0};
		bool stop = (o.count >= 0 && n >= o.count) || sigtimedwait(&set, NULL, &now) > 0;
		r.final = stop;
		printed = !o.quiet || stop;
		if (printed)
			objects_table_write(&r, table, o.top);
		if (stop)
			break;
		next.tv_sec += (time_t)o.interval_s;
		next.tv_nsec += (long)((o.interval_s - (double)(time_t)o.interval_s) * 1e9);
		if (next.tv_nsec >= 1000000000L) {
			next.tv_nsec -= 1000000000L;
			next.tv_sec++;
		}
		if (wait_signal(&set, &next))
			break;
	}
	if (have) {
		/* the last census is the final report, whatever ended the run */
		r.final = true;
		if (!printed)
			objects_table_write(&r, table, o.top);
		if (o.json && out_write_file(o.json, "JSON census", json_writer, &r))
			rc = 1;
		else if (o.json && strcmp(o.json, "-"))
			fprintf(stderr, "leakbpf: wrote JSON census to %s\n", o.json);
	}
	census_close(s);
	return rc;
}
