// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Leaks called from code the unwinder knows nothing of: generated code in
 * an anonymous executable mapping (as a JIT makes), and a function of the
 * executable without CFI (assembly without .cfi directives). The walk must
 * stop cleanly there, the stack saying so. Both call the function whose
 * address they are given: sub $8,%rsp; call *%rdi; add $8,%rsp; ret.
 * Usage: cfi_jit [--now] [--exit N]
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "../harness.h"

#define STEP __attribute__((noinline, noipa))

enum { JIT_SZ = 88, NOCFI_SZ = 99, LEAKS = 4 };

void nocfi_trampoline(void (*fn)(void));
__asm__(".text\n"
	".globl nocfi_trampoline\n"
	".type nocfi_trampoline, @function\n"
	"nocfi_trampoline:\n"
	"	sub $8, %rsp\n"
	"	call *%rdi\n"
	"	add $8, %rsp\n"
	"	ret\n"
	".size nocfi_trampoline, .-nocfi_trampoline\n");

static const unsigned char code[] = {0x48, 0x83, 0xec, 0x08, 0xff, 0xd7,
				     0x48, 0x83, 0xc4, 0x08, 0xc3};
static void *kept[2 * LEAKS];
static int nkept;

STEP static void leak_from_jit(void)
{
	void *p = malloc(JIT_SZ);
	lt_keep(p);
	kept[nkept++] = p;
}

STEP static void leak_from_nocfi(void)
{
	void *p = malloc(NOCFI_SZ);
	lt_keep(p);
	kept[nkept++] = p;
}

STEP static void run_generated(void (*gen)(void (*)(void)))
{
	gen(leak_from_jit);
	lt_keep((void *)gen);
}

int main(int argc, char **argv)
{
	struct lt lt;
	lt_init(&lt, argc, argv);
	void *mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return 3;
	memcpy(mem, code, sizeof(code));
	if (mprotect(mem, 4096, PROT_READ | PROT_EXEC))
		return 3;
	lt_ready(&lt);
	lt_wait_go(&lt);
	for (int i = 0; i < LEAKS; i++) {
		run_generated((void (*)(void (*)(void)))mem);
		nocfi_trampoline(leak_from_nocfi);
	}
	lt_leak(&lt, "leak_from_jit", LEAKS, LEAKS * JIT_SZ);
	lt_leak(&lt, "leak_from_nocfi", LEAKS, LEAKS * NOCFI_SZ);
	lt_done(&lt);
	return lt_end(&lt);
}
