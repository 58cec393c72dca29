// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A static program without any libc and so without any allocator: leakbpf
 * must refuse it with one line ("no allocator found"). Built with -nostdlib.
 * Prints "ready\n", then sleeps (raw syscalls) until killed.
 */
#include <stddef.h>

static long sys3(long nr, long a, long b, long c)
{
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c)
			 : "rcx", "r11", "memory");
	return ret;
}

void _start(void)
{
	static const char msg[] = "ready\n";
	struct {
		long sec, nsec;
	} ts = {3600, 0};

	sys3(1, 1, (long)msg, sizeof(msg) - 1); /* write */
	for (;;)
		sys3(35, (long)&ts, 0, 0); /* nanosleep */
}
