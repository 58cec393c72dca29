// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Command line parsing for the trace mode. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "report/bound.h"
#include "util/words.h"
#include "session/options.h"

static const char usage_head[] =
    "Usage: leakbpf [options] -p PID[,PID...] [INTERVAL [COUNT]]\n"
    "       leakbpf [options] [INTERVAL [COUNT]] -- CMD [ARG...]\n"
    "       leakbpf [options] [INTERVAL [COUNT]] -c \"CMD ARGS\"\n"
    "       leakbpf --growth [options] -a [INTERVAL [COUNT]]\n"
    "       leakbpf diff SNAPSHOT_A SNAPSHOT_B [-T N] [--json FILE]\n"
    "       leakbpf report SNAPSHOT [output options]\n"
    "       leakbpf objects -p PID [INTERVAL [COUNT]]   (Python heap census)\n"
    "\n"
    "Find memory leaks in a running process: outstanding bytes per stack.\n"
    "\n"
    "  -p, --pid PID[,PID...]   trace these running processes (all their threads)\n"
    "      --children           and their children: present now and forked later,\n"
    "                           each held at its fork until traced (pre-fork servers)\n"
    "      --max-procs N        processes traced at once at most (default 32); more\n"
    "                           are a drop of every report\n"
    "      --per-process        one table per process instead of one merged table\n"
    "  -- CMD [ARG...]          start CMD with exactly these arguments and trace it\n"
    "                           from its first allocation (leakbpf then exits with\n"
    "                           its status)\n"
    "  -c, --command \"CMD\"      the same, CMD split into words as a shell would\n"
    "                           (quotes, backslashes), nothing expanded\n"
    "      --growth             growth mode: resident memory per stack, from page\n"
    "                           faults only (no allocator probes; safe to leave on)\n"
    "      --alloc-windows[=LEN/EVERY]\n"
    "                           with --growth: probe the allocators for LEN every\n"
    "                           EVERY (default 1s/60s) and give pages to the\n"
    "                           allocations that stay in them (slower in windows)\n"
    "  -a, --all                every process on the host, ranked by growth\n"
    "                           (with --growth only)\n"
    "  INTERVAL                 seconds between reports (default 5)\n"
    "  COUNT                    number of reports before exiting (default: unlimited)\n"
    "  -d, --duration D         stop after D (10, 10s, 2m, 1h; at most a year)\n"
    "  -o, --older AGE          only count allocations at least AGE old\n"
    "                           (bare number = milliseconds; 500ms, 1s, 2m)\n"
    "  -T, --top N              stacks shown in the table (default 10)\n"
    "  -z, --min-size SIZE      ignore allocations smaller than SIZE (4k, 1M)\n"
    "  -Z, --max-size SIZE      ignore allocations larger than SIZE\n"
    "      --native             show every native frame (no Python merging)\n"
    "      --no-python          native tracing only, even for CPython targets\n"
    "      --py-alloc MODE      CPython allocations traced: objects (default: objects\n"
    "                           and containers, blocks above 512 bytes) or all\n"
    "                           (every pymalloc block; several times slower)\n";

/* the output formats' lines come from out/registry.c in between */
static const char usage_tail[] =
    "      --output-stacks N    stacks written to each file and snapshot (default 1000;\n"
    "                           the others are summed into one; 0 = all)\n"
    "      --snapshot-every D   write a snapshot every D (needs --snapshot-dir)\n"
    "      --snapshot-dir DIR   where snapshots go\n"
    "      --snapshot-keep N    keep at most N snapshots (default 48)\n"
    "      --max-tracked N      outstanding blocks tracked at most (default 4M)\n"
    "      --max-stacks N       distinct stacks kept at most (default 256k)\n"
    "  -q, --quiet              no periodic tables, only the final report\n"
    "  -v, --verbose            say more about attaching\n"
    "  -h, --help               this help\n"
    "      --version            print the version\n"
    "\n"
    "Output files are checked before tracing starts and written at the final report\n"
    "(end of duration, COUNT reached, Ctrl-C/SIGTERM, or target exit). Needs root (or "
    "CAP_BPF+CAP_PERFMON+CAP_SYS_ADMIN).\n";

enum {
	OPT_NATIVE = 256,
	OPT_NO_PYTHON,
	OPT_PY_ALLOC,
	OPT_OUTPUT_STACKS,
	OPT_SNAP_EVERY,
	OPT_SNAP_DIR,
	OPT_SNAP_KEEP,
	OPT_MAX_TRACKED,
	OPT_MAX_STACKS,
	OPT_VERSION,
	OPT_GROWTH,
	OPT_CHILDREN,
	OPT_MAX_PROCS,
	OPT_PER_PROCESS,
	OPT_ALLOC_WINDOWS,
	OPT_OUTPUT, /* one per format of out/registry.h from here */
};

static const struct option base_opts[] = {
    {"pid", required_argument, NULL, 'p'},
    {"command", required_argument, NULL, 'c'},
    {"duration", required_argument, NULL, 'd'},
    {"older", required_argument, NULL, 'o'},
    {"top", required_argument, NULL, 'T'},
    {"min-size", required_argument, NULL, 'z'},
    {"max-size", required_argument, NULL, 'Z'},
    {"growth", no_argument, NULL, OPT_GROWTH},
    {"all", no_argument, NULL, 'a'},
    {"alloc-windows", optional_argument, NULL, OPT_ALLOC_WINDOWS},
    {"children", no_argument, NULL, OPT_CHILDREN},
    {"max-procs", required_argument, NULL, OPT_MAX_PROCS},
    {"per-process", no_argument, NULL, OPT_PER_PROCESS},
    {"native", no_argument, NULL, OPT_NATIVE},
    {"no-python", no_argument, NULL, OPT_NO_PYTHON},
    {"py-alloc", required_argument, NULL, OPT_PY_ALLOC},
    {"output-stacks", required_argument, NULL, OPT_OUTPUT_STACKS},
    {"snapshot-every", required_argument, NULL, OPT_SNAP_EVERY},
    {"snapshot-dir", required_argument, NULL, OPT_SNAP_DIR},
    {"snapshot-keep", required_argument, NULL, OPT_SNAP_KEEP},
    {"max-tracked", required_argument, NULL, OPT_MAX_TRACKED},
    {"max-stacks", required_argument, NULL, OPT_MAX_STACKS},
    {"quiet", no_argument, NULL, 'q'},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, OPT_VERSION},
};

double parse_duration(const char *s, double bare_unit_s)
{
	char *end;
	if (!s || !*s || isspace((unsigned char)*s) || *s == '-')
		return -1;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || !isfinite(v) || v < 0)
		return -1;
	double unit = bare_unit_s;
	if (*end == '\0')
		unit = bare_unit_s;
	else if (!strcmp(end, "ms"))
		unit = 0.001;
	else if (!strcmp(end, "s"))
		unit = 1;
	else if (!strcmp(end, "m") || !strcmp(end, "min"))
		unit = 60;
	else if (!strcmp(end, "h"))
		unit = 3600;
	else
		return -1;
	/* beyond, nanosecond deadlines would overflow: refused, not clamped */
	if (v * unit > DURATION_MAX_S)
		return -1;
	return v * unit;
}

int parse_size(const char *s, uint64_t *out)
{
	char *end;
	if (!s || !*s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	uint64_t mul = 1;
	if (*end) {
		switch (toupper((unsigned char)*end)) {
		case 'K':
			mul = 1ULL << 10;
			break;
		case 'M':
			mul = 1ULL << 20;
			break;
		case 'G':
			mul = 1ULL << 30;
			break;
		default:
			return -1;
		}
		end++;
		if (*end == 'i' || *end == 'I')
			end++;
		if (*end == 'b' || *end == 'B')
			end++;
		if (*end)
			return -1;
	}
	if (v > UINT64_MAX / mul)
		return -1;
	*out = v * mul;
	return 0;
}

static int parse_count(const char *s, uint64_t *out, uint64_t min)
{
	uint64_t v;
	if (parse_size(s, &v) || v < min)
		return -1;
	*out = v;
	return 0;
}

/* "LEN/EVERY": two durations (bare numbers are seconds), LEN < EVERY. */
static int parse_windows(const char *s, double *len_s, double *every_s)
{
	const char *slash = strchr(s, '/');
	char len[64];
	if (!slash || (size_t)(slash - s) >= sizeof(len))
		return -1;
	memcpy(len, s, (size_t)(slash - s));
	len[slash - s] = 0;
	double l = parse_duration(len, 1), e = parse_duration(slash + 1, 1);
	if (l <= 0 || e <= 0 || l >= e)
		return -1;
	*len_s = l;
	*every_s = e;
	return 0;
}

static int bad(const char *opt, const char *val, const char *want)
{
	fprintf(stderr, "leakbpf: invalid value '%s' for %s: expected %s\n", val, opt, want);
	return -1;
}

static int unexpected(const char *arg)
{
	fprintf(stderr, "leakbpf: unexpected argument '%s' (see leakbpf --help)\n", arg);
	return -1;
}

int parse_pid(const char *s, pid_t *pid)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v <= 0 || v > 4194304)
		return -1;
	*pid = (pid_t)v;
	return 0;
}

int parse_pid_list(const char *s, pid_t self, pid_t *pids, unsigned max, unsigned *n, char *err,
		   size_t errlen)
{
	*n = 0;
	for (const char *p = s;; p++) {
		size_t len = strcspn(p, ",");
		char one[16];
		pid_t pid;
		if (len >= sizeof(one) ||
		    (memcpy(one, p, len), one[len] = 0, parse_pid(one, &pid))) {
			snprintf(err, errlen, "'%.*s' is not a process id",
				 len ? (int)(len < 32 ? len : 32) : 2, len ? p : "''");
			return -1;
		}
		if (pid == self) {
			snprintf(err, errlen, "%d is leakbpf itself", pid);
			return -1;
		}
		for (unsigned i = 0; i < *n; i++)
			if (pids[i] == pid) {
				snprintf(err, errlen, "%d is given twice", pid);
				return -1;
			}
		if (*n == max) {
			snprintf(err, errlen, "more than %u processes", max);
			return -1;
		}
		pids[(*n)++] = pid;
		p += len;
		if (!*p)
			return 0;
	}
}

/* Whether option `name` (a long option, maybe abbreviated, without "--"
 * and "=value") takes its value from the next argument. */
static bool long_takes_next(const struct option *opts, const char *name)
{
	size_t len = strcspn(name, "=");
	const struct option *hit = NULL;
	if (name[len] == '=')
		return false;
	for (const struct option *op = opts; op->name; op++) {
		if (strncmp(op->name, name, len))
			continue;
		if (strlen(op->name) == len)
			return op->has_arg == required_argument;
		hit = op; /* an abbreviation (getopt takes a unique one) */
	}
	return hit && hit->has_arg == required_argument;
}

/* Index of the "--" that ends leakbpf's own arguments (argc when none):
 * the first one that is not the value of an option. */
static int find_dashdash(int argc, char **argv, const struct option *opts, const char *shorts)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--"))
			return i;
		if (a[0] != '-' || !a[1])
			continue;
		if (a[1] == '-') {
			i += long_takes_next(opts, a + 2);
			continue;
		}
		for (const char *c = a + 1; *c; c++) {
			const char *d = strchr(shorts, *c);
			if (*c != ':' && d && d[1] == ':') {
				i += !c[1]; /* value in the next argument */
				break;
			}
		}
	}
	return argc;
}

void options_free(struct options *o)
{
	if (o->command_owned)
		words_free(o->command_argv);
	o->command_argv = NULL;
	o->command_owned = false;
}

int options_parse(int argc, char **argv, struct options *o)
{
	memset(o, 0, sizeof(*o));
	o->interval_s = 5;
	o->top = 10;
	o->max_size = UINT64_MAX;
	o->snapshot_keep = 48;
	o->max_tracked = 4u << 20;
	o->max_stacks = 256u << 10;
	o->max_procs = MAX_PROCS_DEFAULT;
	o->window_s = ALLOC_WINDOW_S;
	o->window_every_s = ALLOC_WINDOW_EVERY_S;
	o->output_stacks = RM_OUTPUT_STACKS;
	uint64_t v;
	int c;

	const size_t nbase = sizeof(base_opts) / sizeof(base_opts[0]);
	struct option longopts[sizeof(base_opts) / sizeof(base_opts[0]) + OUT_NFORMATS + 1];
	memcpy(longopts, base_opts, sizeof(base_opts));
	out_longopts(longopts + nbase, OPT_OUTPUT);
	memset(&longopts[nbase + OUT_NFORMATS], 0, sizeof(longopts[0]));

	static const char shorts[] = ":p:c:ad:o:T:z:Z:qvh";
	/* leakbpf's own arguments end at "--": the command, or with -p the
	 * positionals, follow */
	int nargs = find_dashdash(argc, argv, longopts, shorts + 1);
	opterr = 0;
	while ((c = getopt_long(nargs, argv, shorts, longopts, NULL)) != -1) {
		if (c >= OPT_OUTPUT && c < OPT_OUTPUT + OUT_NFORMATS) {
			o->outputs.path[c - OPT_OUTPUT] = optarg;
			continue;
		}
		switch (c) {
		case 'p': {
			char why[128];
			if (parse_pid_list(optarg, getpid(), o->pids, OPTIONS_PIDS_MAX, &o->npids,
					   why, sizeof(why))) {
				fprintf(stderr, "leakbpf: invalid value for -p/--pid: %s\n", why);
				return -1;
			}
			o->pid = o->pids[0];
			break;
		}
		case OPT_CHILDREN:
			o->children = true;
			break;
		case OPT_MAX_PROCS:
			if (parse_count(optarg, &v, 1) || v > MAX_PROCS_MAX)
				return bad("--max-procs", optarg, "a count from 1 to 1024");
			o->max_procs = (unsigned)v;
			break;
		case OPT_PER_PROCESS:
			o->per_process = true;
			break;
		case 'c':
			o->command = optarg;
			break;
		case 'a':
			o->all = true;
			break;
		case OPT_GROWTH:
			o->growth = true;
			break;
		case OPT_ALLOC_WINDOWS:
			o->alloc_windows = true;
			if (optarg && parse_windows(optarg, &o->window_s, &o->window_every_s))
				return bad("--alloc-windows", optarg,
					   "LEN/EVERY, two durations like 1s/60s, LEN shorter "
					   "than EVERY");
			break;
		case 'd':
			o->duration_s = parse_duration(optarg, 1);
			if (o->duration_s <= 0)
				return bad("-d/--duration", optarg,
					   "a duration like 10, 10s, 2m (at most a year)");
			break;
		case 'o':
			o->min_age_s = parse_duration(optarg, 0.001);
			if (o->min_age_s < 0)
				return bad("-o/--older", optarg,
					   "an age like 500 (ms), 1s, 2m (at most a year)");
			break;
		case 'T':
			if (parse_count(optarg, &v, 1) || v > 100000)
				return bad("-T/--top", optarg, "a number from 1 to 100000");
			o->top = (unsigned)v;
			break;
		case 'z':
			if (parse_size(optarg, &o->min_size))
				return bad("-z/--min-size", optarg, "a size like 64, 4k, 1M");
			break;
		case 'Z':
			if (parse_size(optarg, &o->max_size))
				return bad("-Z/--max-size", optarg, "a size like 64, 4k, 1M");
			break;
		case OPT_NATIVE:
			o->native = true;
			break;
		case OPT_NO_PYTHON:
			o->no_python = true;
			break;
		case OPT_PY_ALLOC:
			if (strcmp(optarg, "objects") && strcmp(optarg, "all"))
				return bad("--py-alloc", optarg, "objects or all");
			o->py_alloc_all = !strcmp(optarg, "all");
			o->py_alloc_set = true;
			break;
		case OPT_OUTPUT_STACKS:
			if (parse_count(optarg, &v, 0) || v > (1ULL << 26))
				return bad("--output-stacks", optarg,
					   "a number from 0 (all) to 64M");
			o->output_stacks = v;
			break;
		case OPT_SNAP_EVERY:
			o->snapshot_every_s = parse_duration(optarg, 1);
			if (o->snapshot_every_s <= 0)
				return bad("--snapshot-every", optarg,
					   "a duration like 30s, 10m (at most a year)");
			break;
		case OPT_SNAP_DIR:
			o->snapshot_dir = optarg;
			break;
		case OPT_SNAP_KEEP:
			if (parse_count(optarg, &v, 1) || v > 100000)
				return bad("--snapshot-keep", optarg, "a number from 1 to 100000");
			o->snapshot_keep = (unsigned)v;
			break;
		case OPT_MAX_TRACKED:
			if (parse_count(optarg, &v, 1024) || v > (1ULL << 32))
				return bad("--max-tracked", optarg, "a count from 1024 to 4G");
			o->max_tracked = v;
			break;
		case OPT_MAX_STACKS:
			if (parse_count(optarg, &v, 64) || v > (1ULL << 26))
				return bad("--max-stacks", optarg, "a count from 64 to 64M");
			o->max_stacks = v;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			fputs(usage_head, stdout);
			out_usage(stdout);
			fputs(usage_tail, stdout);
			return 1;
		case OPT_VERSION:
			printf("leakbpf %s\n", LEAKBPF_VERSION);
			return 1;
		case ':':
			fprintf(stderr, "leakbpf: option %s needs a value (see leakbpf --help)\n",
				argv[optind - 1]);
			return -1;
		default:
			fprintf(stderr, "leakbpf: unknown option '%s' (see leakbpf --help)\n",
				argv[optind - 1]);
			return -1;
		}
	}

	/* After "--": with -p, more positionals (nothing is an option there);
	 * else the command, word for word. */
	char **rest = argv + nargs + 1;
	int nrest = nargs < argc ? argc - nargs - 1 : 0;
	char *positional[2];
	int npos = 0;
	for (int i = optind; i < nargs; i++)
		if (npos < 2)
			positional[npos++] = argv[i];
		else
			return unexpected(argv[i]);
	if (nargs < argc && o->command) {
		fprintf(stderr, "leakbpf: -c takes the whole command as one string: give either -c "
				"\"CMD ARGS\" or -- CMD ARGS, not both\n");
		return -1;
	}
	if (nargs < argc && o->pid) {
		for (int i = 0; i < nrest; i++)
			if (npos < 2)
				positional[npos++] = rest[i];
			else
				return unexpected(rest[i]);
	} else if (nargs < argc) {
		if (!nrest) {
			fprintf(stderr, "leakbpf: nothing after --: give the command to run\n");
			return -1;
		}
		o->command_argv = rest;
	}
	if (o->command) {
		char why[256];
		o->command_argv = words_split(o->command, why, sizeof(why));
		if (!o->command_argv) {
			fprintf(stderr, "leakbpf: invalid value '%s' for -c/--command: %s\n",
				o->command, why);
			return -1;
		}
		o->command_owned = true;
	}

	/* Positional INTERVAL [COUNT], as in bcc's memleak. */
	if (npos > 0) {
		o->interval_s = parse_duration(positional[0], 1);
		if (o->interval_s <= 0)
			return bad("INTERVAL", positional[0],
				   "seconds between reports (at most a year)");
	}
	if (npos > 1) {
		if (parse_count(positional[1], &v, 1))
			return bad("COUNT", positional[1], "a number of reports");
		o->count = (long)v;
	}
	if (!o->pid && !o->command_argv && !o->all) {
		fprintf(stderr,
			"leakbpf: nothing to trace: give -p PID, -c \"CMD\", -- CMD or -a (see "
			"leakbpf --help)\n");
		return -1;
	}
	if (o->pid && o->command_argv) {
		fprintf(stderr, "leakbpf: -p and -c (or -- CMD) cannot be used together\n");
		return -1;
	}
	if (o->pid == getpid()) {
		fprintf(stderr, "leakbpf: -p %d is leakbpf itself\n", o->pid);
		return -1;
	}
	if (o->all && (o->children || o->per_process)) {
		fprintf(stderr, "leakbpf: -a traces every process already: not with --children or "
				"--per-process\n");
		return -1;
	}
	if (o->npids > o->max_procs) {
		fprintf(stderr, "leakbpf: -p names %u processes, more than --max-procs %u\n",
			o->npids, o->max_procs);
		return -1;
	}
	if (o->all && (o->pid || o->command_argv)) {
		fprintf(stderr, "leakbpf: -a traces every process: not with -p or -c\n");
		return -1;
	}
	if (o->all && !o->growth) {
		fprintf(stderr,
			"leakbpf: -a needs --growth: the exact mode traps every allocation, "
			"which would slow every process on the host several times\n");
		return -1;
	}
	if (o->alloc_windows && (!o->growth || o->all)) {
		fprintf(stderr, o->growth ? "leakbpf: --alloc-windows would probe the allocators "
					    "of every process on the host: not with -a\n"
					  : "leakbpf: --alloc-windows is for the growth mode "
					    "(--growth): the exact mode probes the allocators "
					    "all along\n");
		return -1;
	}
	if (o->growth && (o->min_size || o->max_size != UINT64_MAX || o->py_alloc_set)) {
		fprintf(stderr, "leakbpf: -z, -Z and --py-alloc choose allocations to trace: the "
				"growth mode traces none (it sees pages)\n");
		return -1;
	}
	if (o->min_size > o->max_size) {
		fprintf(stderr, "leakbpf: -z/--min-size is larger than -Z/--max-size\n");
		return -1;
	}
	if (out_stdout_count(&o->outputs) > 1) {
		fprintf(stderr, "leakbpf: only one output can go to standard output (-)\n");
		return -1;
	}
	if (!!o->snapshot_dir != (o->snapshot_every_s > 0)) {
		fprintf(stderr, "leakbpf: --snapshot-every and --snapshot-dir go together\n");
		return -1;
	}
	return 0;
}
