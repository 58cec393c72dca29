// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* -c mode: start the command, trace it from exec, catch it before exit. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <elf.h>
#include <stdint.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>
#include "util/escape.h"
#include "target/launch.h"

static char *find_in_path(const char *name)
{
	if (strchr(name, '/'))
		return access(name, X_OK) == 0 ? realpath(name, NULL) : NULL;
	const char *path = getenv("PATH");
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	char buf[PATH_MAX];
	while (*path) {
		size_t n = strcspn(path, ":");
		snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, path, name);
		if (n && access(buf, X_OK) == 0)
			return realpath(buf, NULL);
		path += n + (path[n] == ':');
	}
	return NULL;
}

int launch_start(struct launch *l, char *const *argv, const struct launch_child *child, char *err,
		 size_t errlen)
{
	memset(l, 0, sizeof(*l));
	l->go_fd = -1;
	l->argv = argv;
	l->exe = find_in_path(l->argv[0]);
	if (!l->exe) {
		char shown[512];
		snprintf(err, errlen, "command not found: %s",
			 escape_str(l->argv[0], NULL, shown, sizeof(shown)));
		return -ENOENT;
	}
	int p[2];
	if (pipe2(p, O_CLOEXEC)) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		close(p[1]);
		char c;
		/* Wait until the probes are in place (EOF = go). */
		while (read(p[0], &c, 1) < 0 && errno == EINTR)
			;
		if (child->restore_mask)
			sigprocmask(SIG_SETMASK, &child->mask, NULL);
		if (child->restore_nofile)
			setrlimit(RLIMIT_NOFILE, &child->nofile);
		execve(l->exe, l->argv, child->envp);
		int e = errno;
		fprintf(stderr, "leakbpf: cannot run %s: %s\n", l->exe, strerror(e));
		/* as a shell: 127 not found, 126 found but not runnable */
		_exit(e == ENOENT ? 127 : 126);
	}
	close(p[0]);
	l->pid = pid;
	l->go_fd = p[1];
	/* Seize (no stop, no signal) to hold it at exec. */
	l->traced = ptrace(PTRACE_SEIZE, pid, NULL, (void *)(long)PTRACE_O_TRACEEXEC) == 0;
	return 0;
}

void launch_release(struct launch *l)
{
	if (l->go_fd >= 0)
		close(l->go_fd);
	l->go_fd = -1;
}

/* Wait for the child's next stop. 1: stopped (*st set); 0: nothing yet
 * (with WNOHANG); -1: gone (l->exited and l->status set). A group-stop
 * (SIGSTOP, SIGTSTP...) is left in place, as without us, and waited past. */
static int wait_child(struct launch *l, int flags, int *st)
{
	for (;;) {
		pid_t r = waitpid(l->pid, st, flags | __WALL);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0)
			return 0;
		if (r < 0 || WIFEXITED(*st) || WIFSIGNALED(*st)) {
			l->exited = true;
			l->status = r < 0 ? -1 : *st;
			return -1;
		}
		if (!WIFSTOPPED(*st))
			continue;
		if (*st >> 16 == PTRACE_EVENT_STOP) {
			ptrace(PTRACE_LISTEN, l->pid, NULL, NULL);
			continue;
		}
		return 1;
	}
}

int launch_wait_exec(struct launch *l)
{
	if (!l->traced)
		return 0; /* cannot hold it: trace from wherever it is */
	for (;;) {
		int st;
		if (wait_child(l, 0, &st) < 0)
			return -1;
		if (st >> 16 == PTRACE_EVENT_EXEC) {
			l->execed = true;
			return 0;
		}
		ptrace(PTRACE_CONT, l->pid, NULL, (void *)(long)WSTOPSIG(st));
	}
}

static bool has_mapping(pid_t pid, const char *prefix)
{
	char path[64], line[1024];
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	FILE *f = fopen(path, "re");
	bool found = false;
	while (f && !found && fgets(line, sizeof(line), f)) {
		/* its code must be mapped, not only the loader's first reservation */
		char *base = strrchr(line, '/'), *perms = strchr(line, ' ');
		found =
		    base && perms && perms[3] == 'x' && !strncmp(base + 1, prefix, strlen(prefix));
	}
	if (f)
		fclose(f);
	return found;
}

int launch_run_until_mapped(struct launch *l, const char *prefix, int max_syscalls)
{
	if (!l->traced)
		return -1;
	for (int n = 0; n < 2 * max_syscalls; n++) {
		if (has_mapping(l->pid, prefix))
			return 0;
		int sig = 0;
		for (;;) {
			if (ptrace(PTRACE_SYSCALL, l->pid, NULL, (void *)(long)sig))
				return -1;
			int st;
			if (wait_child(l, 0, &st) < 0)
				return -1;
			/* without PTRACE_O_TRACESYSGOOD a syscall stop is a plain SIGTRAP */
			if (WSTOPSIG(st) == SIGTRAP && !(st >> 16))
				break;
			sig = !(st >> 16) ? WSTOPSIG(st) : 0;
		}
	}
	return has_mapping(l->pid, prefix) ? 0 : -1;
}

static uint64_t entry_point(pid_t pid)
{
	char path[64];
	uint64_t av[2], entry = 0;
	snprintf(path, sizeof(path), "/proc/%d/auxv", pid);
	FILE *f = fopen(path, "re");
	while (f && fread(av, sizeof(av), 1, f) == 1 && av[0] != AT_NULL)
		if (av[0] == AT_ENTRY)
			entry = av[1];
	if (f)
		fclose(f);
	return entry;
}

int launch_run_to_entry(struct launch *l)
{
	uint64_t entry = entry_point(l->pid);
	if (!l->traced || !entry)
		return -1;
	errno = 0;
	long orig = ptrace(PTRACE_PEEKTEXT, l->pid, (void *)entry, NULL);
	if (errno)
		return -1;
	long trap = (orig & ~0xffL) | 0xcc; /* int3 */
	if (ptrace(PTRACE_POKETEXT, l->pid, (void *)entry, (void *)trap))
		return -1;
	int sig = 0;
	for (;;) {
		int st;
		if (ptrace(PTRACE_CONT, l->pid, NULL, (void *)(long)sig)) {
			/* never leave the trap behind in a running child */
			ptrace(PTRACE_POKETEXT, l->pid, (void *)entry, (void *)orig);
			return -1;
		}
		if (wait_child(l, 0, &st) < 0)
			return -1;
		if (st >> 16) {
			sig = 0; /* exec/exit events: just go on */
			continue;
		}
		struct user_regs_struct regs;
		if (WSTOPSIG(st) == SIGTRAP && !ptrace(PTRACE_GETREGS, l->pid, NULL, &regs) &&
		    regs.rip == entry + 1) {
			regs.rip = entry;
			ptrace(PTRACE_SETREGS, l->pid, NULL, &regs);
			ptrace(PTRACE_POKETEXT, l->pid, (void *)entry, (void *)orig);
			return 0;
		}
		sig = WSTOPSIG(st); /* the child's own signal: deliver it */
	}
}

int launch_detach(struct launch *l, bool stopped)
{
	if (!l->traced)
		return 0;
	l->traced = false;
	if (!stopped) {
		/* running: stop it in a ptrace-stop first, the only state from
		 * which PTRACE_DETACH lets go (a signal that arrives meanwhile is
		 * delivered on detach) */
		if (ptrace(PTRACE_INTERRUPT, l->pid, NULL, NULL))
			return -1;
		int sig = 0;
		for (;;) {
			int st;
			pid_t r = waitpid(l->pid, &st, __WALL);
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0 || WIFEXITED(st) || WIFSIGNALED(st)) {
				l->exited = true;
				l->status = r < 0 ? -1 : st;
				return -1;
			}
			if (!WIFSTOPPED(st))
				continue;
			if (st >> 16 == PTRACE_EVENT_STOP) {
				/* a group-stop (SIGSTOP...) stays one after detach */
				if (WSTOPSIG(st) != SIGTRAP)
					sig = WSTOPSIG(st);
				break;
			}
			if (st >> 16) { /* exec or exit event: stopped, go on */
				sig = 0;
				break;
			}
			sig = WSTOPSIG(st); /* the child's own signal: hand it back */
			break;
		}
		return ptrace(PTRACE_DETACH, l->pid, NULL, (void *)(long)sig) ? -1 : 0;
	}
	return ptrace(PTRACE_DETACH, l->pid, NULL, NULL) ? -1 : 0;
}

bool launch_poll_exit(struct launch *l)
{
	while (!l->exited) {
		int st;
		pid_t r = waitpid(l->pid, &st, WNOHANG | __WALL);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0)
			return false;
		if (r < 0 || WIFEXITED(st) || WIFSIGNALED(st)) {
			l->exited = true;
			l->status = r < 0 ? -1 : st;
		}
		/* stops and continues of an untraced child are not reported
		 * without WUNTRACED: nothing else comes here */
	}
	return true;
}

int launch_wait_stopped(struct launch *l, int timeout_ms)
{
	for (int waited = 0; !l->exited; waited++) {
		int st;
		pid_t r = waitpid(l->pid, &st, WNOHANG | WUNTRACED | __WALL);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 || (r > 0 && (WIFEXITED(st) || WIFSIGNALED(st)))) {
			l->exited = true;
			l->status = r < 0 ? -1 : st;
			break;
		}
		if (r > 0 && WIFSTOPPED(st))
			return 0;
		if (waited >= timeout_ms)
			return -1;
		usleep(1000);
	}
	return -1;
}

void launch_free(struct launch *l)
{
	launch_release(l);
	free(l->exe);
	memset(l, 0, sizeof(*l));
}
