// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The map of held processes and the guardian that frees them (see
 * held_guard.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "session/held_guard.h"

/* Entries of the map: processes held at once at most (forks faster than
 * leakbpf attaches); a fork past it runs unheld (counted). */
#define HELD_MAX 1024
/* A key with this bit: the process of the other bits is being released
 * (no pid has it: pid_max is 2^22 at most). */
#define HELD_RELEASING (1u << 31)

static void continue_all(int map_fd)
{
	uint32_t key, next;
	uint32_t *prev = NULL;
	while (!bpf_map_get_next_key(map_fd, prev, &next)) {
		kill((pid_t)(next & ~HELD_RELEASING), SIGCONT);
		key = next;
		prev = &key;
	}
}

/* The guardian: nothing but waiting for leakbpf's end. No signal that a
 * handler or SIG_IGN can stop ends or stops it: Ctrl-C, a hangup and
 * `pkill leakbpf` (which matches its name and command line too) are
 * leakbpf's to act on, and a guardian gone before leakbpf would leave what
 * is held stopped for ever. It ends once leakbpf is gone (the pipe), or by
 * SIGKILL. Every signal is blocked from before the fork until then: none
 * acts before it is ignored. */
static void guardian(int map_fd, int pipe_r)
{
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_IGN); /* the C library's own refuse: no matter */
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL); /* what came meanwhile is dropped */
	prctl(PR_SET_NAME, "leakbpf-guard");
	char c;
	while (read(pipe_r, &c, 1) < 0 && errno == EINTR)
		;
	continue_all(map_fd);
	_exit(0);
}

int held_guard_start(struct held_guard *g, char *err, size_t errlen)
{
	g->pid = -1;
	g->pipe_w = -1;
	g->map_fd = bpf_map_create(BPF_MAP_TYPE_HASH, "held", sizeof(uint32_t), sizeof(uint8_t),
				   HELD_MAX, NULL);
	int p[2];
	if (g->map_fd < 0 || pipe2(p, O_CLOEXEC)) {
		snprintf(err, errlen, "cannot make the map of held processes: %s", strerror(errno));
		return -1;
	}
	sigset_t all, mask;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &mask);
	g->pid = fork();
	if (g->pid == 0) {
		close(p[1]);
		guardian(g->map_fd, p[0]);
	}
	sigprocmask(SIG_SETMASK, &mask, NULL);
	close(p[0]);
	if (g->pid < 0) {
		close(p[1]);
		snprintf(err, errlen, "cannot start the guardian of held processes: %s",
			 strerror(errno));
		return -1;
	}
	g->pipe_w = p[1];
	return 0;
}

/* Its entry goes before the SIGCONT: once running, the process may be held
 * again at once (an exec right after a fork, as vfork children do) under
 * the same key, which must stay. The releasing key keeps it guarded
 * meanwhile. */
void held_guard_release(struct held_guard *g, pid_t pid)
{
	uint32_t key = (uint32_t)pid, releasing = key | HELD_RELEASING;
	uint8_t one = 1;
	bool guarded = g->map_fd >= 0 && !bpf_map_update_elem(g->map_fd, &releasing, &one, BPF_ANY);
	if (g->map_fd >= 0)
		bpf_map_delete_elem(g->map_fd, &key);
	kill(pid, SIGCONT);
	if (guarded)
		bpf_map_delete_elem(g->map_fd, &releasing);
}

bool held_guard_holds(const struct held_guard *g, pid_t pid)
{
	uint32_t key = (uint32_t)pid;
	uint8_t v;
	return g->map_fd >= 0 && !bpf_map_lookup_elem(g->map_fd, &key, &v);
}

void held_guard_stop(struct held_guard *g)
{
	if (g->pipe_w >= 0)
		close(g->pipe_w); /* the guardian continues what is left */
	if (g->pid > 0)
		waitpid(g->pid, NULL, 0);
	if (g->map_fd >= 0)
		close(g->map_fd);
	g->pid = g->pipe_w = g->map_fd = -1;
}
