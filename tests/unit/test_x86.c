// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* attach/x86.c and attach/placement.c on synthetic bytes, and placement
 * on the system libc's malloc and free (read through target/elf_file.c). */
#include "unit.h"
#include "attach/placement.h"
#include "attach/x86.h"
#include "target/elf_file.h"

#define BYTES(...) ((const uint8_t[]){__VA_ARGS__}), sizeof((const uint8_t[]){__VA_ARGS__})

/* Length of the one instruction in code[0..len), 0 when refused; the
 * decoded instruction in *in. */
static unsigned decode(const uint8_t *code, size_t len, struct x86_insn *in)
{
	return x86_decode(code, len, in);
}

static unsigned len_of(const uint8_t *code, size_t len)
{
	struct x86_insn in;
	return x86_decode(code, len, &in);
}

static bool emulated(const uint8_t *code, size_t len)
{
	struct x86_insn in;
	return x86_decode(code, len, &in) && placement_emulated(&in);
}

/* The register the instruction writes (X86_NO_REG: none), or -2 when it
 * is not a register-only instruction. */
static int writes(const uint8_t *code, size_t len)
{
	struct x86_insn in;
	int dst;
	if (!x86_decode(code, len, &in))
		return -3;
	return x86_writes_only(&in, &dst) ? dst : -2;
}

static void test_lengths_plain(void)
{
	CHECK_EQ(len_of(BYTES(0x55)), 1);				 /* push %rbp */
	CHECK_EQ(len_of(BYTES(0x41, 0x54)), 2);				 /* push %r12 */
	CHECK_EQ(len_of(BYTES(0x5d)), 1);				 /* pop %rbp */
	CHECK_EQ(len_of(BYTES(0xc3)), 1);				 /* ret */
	CHECK_EQ(len_of(BYTES(0xc2, 0x08, 0x00)), 3);			 /* ret $8 */
	CHECK_EQ(len_of(BYTES(0xc8, 0x10, 0x00, 0x00)), 4);		 /* enter $16, $0 */
	CHECK_EQ(len_of(BYTES(0x48, 0x89, 0xfe)), 3);			 /* mov %rdi,%rsi */
	CHECK_EQ(len_of(BYTES(0x89, 0xc7)), 2);				 /* mov %eax,%edi */
	CHECK_EQ(len_of(BYTES(0x48, 0x85, 0xff)), 3);			 /* test %rdi,%rdi */
	CHECK_EQ(len_of(BYTES(0x31, 0xc0)), 2);				 /* xor %eax,%eax */
	CHECK_EQ(len_of(BYTES(0x48, 0x83, 0xec, 0x10)), 4);		 /* sub $0x10,%rsp */
	CHECK_EQ(len_of(BYTES(0x48, 0x81, 0xec, 0, 1, 0, 0)), 7);	 /* sub $0x100,%rsp */
	CHECK_EQ(len_of(BYTES(0xb8, 0x11, 0, 0, 0)), 5);		 /* mov $0x11,%eax */
	CHECK_EQ(len_of(BYTES(0x48, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8)), 10); /* movabs */
	CHECK_EQ(len_of(BYTES(0xa1, 1, 2, 3, 4, 5, 6, 7, 8)), 9);	 /* mov moffs64,%eax */
	CHECK_EQ(len_of(BYTES(0xf6, 0xc1, 0x01)), 3);			 /* test $1,%cl */
	CHECK_EQ(len_of(BYTES(0xf7, 0xc7, 0, 0, 1, 0)), 6);		 /* test $0x10000,%edi */
	CHECK_EQ(len_of(BYTES(0x48, 0xf7, 0xe2)), 3);			 /* mul %rdx */
	CHECK_EQ(len_of(BYTES(0x0f, 0xaf, 0xc2)), 3);			 /* imul %edx,%eax */
	CHECK_EQ(len_of(BYTES(0x0f, 0xb6, 0x07)), 3);			 /* movzbl (%rdi),%eax */
	CHECK_EQ(len_of(BYTES(0x0f, 0x23, 0x87)), 3); /* mov %rdi,%db0: ModRM is registers */
}

static void test_lengths_with_prefixes(void)
{
	CHECK_EQ(len_of(BYTES(0x66, 0xb8, 0x34, 0x12)), 4);	  /* mov $0x1234,%ax */
	CHECK_EQ(len_of(BYTES(0x66, 0x81, 0xff, 0x34, 0x12)), 5); /* cmp $0x1234,%di */
	CHECK_EQ(len_of(BYTES(0x67, 0xa1, 1, 2, 3, 4)), 6);	  /* mov moffs32,%eax */
	CHECK_EQ(len_of(BYTES(0x64, 0x48, 0x8b, 0x04, 0x25, 0x28, 0, 0, 0)), 9); /* %fs:0x28 */
	CHECK_EQ(len_of(BYTES(0xf0, 0x48, 0x0f, 0xb1, 0x17)), 5); /* lock cmpxchg %rdx,(%rdi) */
	CHECK_EQ(len_of(BYTES(0xf3, 0x48, 0x0f, 0xb8, 0xc7)), 5); /* popcnt %rdi,%rax */
	CHECK_EQ(len_of(BYTES(0xf3, 0x48, 0xab)), 3);		  /* rep stos %rax,(%rdi) */
	/* a REX before a legacy prefix is ignored: 66 b8 takes an imm16 */
	struct x86_insn in;
	CHECK_EQ(decode(BYTES(0x48, 0x66, 0xb8, 0x34, 0x12), &in), 5);
	CHECK_EQ(in.rex, 0);
	/* sixteen prefixes make an instruction longer than 15 bytes */
	CHECK_EQ(len_of(BYTES(0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
			      0x66, 0x66, 0x66, 0x66, 0x90)),
		 0);
}

static void test_modrm_sib_disp(void)
{
	struct x86_insn in;
	/* lea -0x10(%rdi),%rsi: disp8 */
	CHECK_EQ(decode(BYTES(0x48, 0x8d, 0x77, 0xf0), &in), 4);
	CHECK_EQ(in.disp_len, 1);
	CHECK_EQ(in.disp, -16);
	CHECK_EQ(in.reg, X86_RSI);
	CHECK(!in.has_sib && !in.rip_relative);
	/* lea (%rsp),%rax: SIB, no displacement */
	CHECK_EQ(decode(BYTES(0x48, 0x8d, 0x04, 0x24), &in), 4);
	CHECK(in.has_sib);
	CHECK_EQ(in.disp_len, 0);
	/* mov 0x8(%rsp),%rax: SIB + disp8 */
	CHECK_EQ(len_of(BYTES(0x48, 0x8b, 0x44, 0x24, 0x08)), 5);
	/* mov 0x100(%rsp),%rax: SIB + disp32 */
	CHECK_EQ(len_of(BYTES(0x48, 0x8b, 0x84, 0x24, 0, 1, 0, 0)), 8);
	/* mov 0x12345678,%eax: SIB without base, disp32, not rip-relative */
	CHECK_EQ(decode(BYTES(0x8b, 0x04, 0x25, 0x78, 0x56, 0x34, 0x12), &in), 7);
	CHECK(in.has_sib && !in.rip_relative);
	CHECK_EQ(in.disp, 0x12345678);
	/* mov 0xb0(%rdi),%r12: REX.R extends ModRM.reg */
	CHECK_EQ(decode(BYTES(0x4c, 0x8b, 0xa7, 0xb0, 0, 0, 0), &in), 7);
	CHECK_EQ(in.reg, 12);
	CHECK_EQ(in.disp, 0xb0);
	/* cmpq $0x0,0xb0(%rdi): disp32 then imm8 */
	CHECK_EQ(decode(BYTES(0x48, 0x83, 0xbf, 0xb0, 0, 0, 0, 0x00), &in), 8);
	CHECK_EQ(in.ext, 7);
	CHECK_EQ(in.imm_len, 1);
	/* REX.B extends ModRM.rm: mov %rdi,%r13 */
	CHECK_EQ(decode(BYTES(0x49, 0x89, 0xfd), &in), 3);
	CHECK_EQ(in.rm, 13);
}

static void test_rip_relative(void)
{
	struct x86_insn in;
	/* mov 0x2ad071(%rip),%rdi (pyenv's PyObject_Malloc) */
	CHECK_EQ(decode(BYTES(0x48, 0x8b, 0x3d, 0x71, 0xd0, 0x2a, 0x00), &in), 7);
	CHECK(in.rip_relative);
	CHECK_EQ(in.disp, 0x2ad071);
	/* jmp *0x2ad073(%rip) */
	CHECK_EQ(decode(BYTES(0xff, 0x25, 0x73, 0xd0, 0x2a, 0x00), &in), 6);
	CHECK(in.rip_relative);
	CHECK_EQ(in.cls, X86_JMP_IND);
	/* cmpb $0x0,0x140201(%rip): the immediate follows the displacement */
	CHECK_EQ(decode(BYTES(0x80, 0x3d, 0x01, 0x02, 0x14, 0x00, 0x00), &in), 7);
	CHECK(in.rip_relative);
	CHECK_EQ(in.disp, 0x140201);
	CHECK_EQ(in.imm_len, 1);
	/* lea -0x7(%rip),%rax */
	CHECK_EQ(decode(BYTES(0x48, 0x8d, 0x05, 0xf9, 0xff, 0xff, 0xff), &in), 7);
	CHECK(in.rip_relative);
	CHECK_EQ(in.disp, -7);
}

static void test_branches(void)
{
	struct x86_insn in;
	CHECK_EQ(decode(BYTES(0xeb, 0x10), &in), 2); /* jmp .+0x12 */
	CHECK_EQ(in.cls, X86_JMP_REL);
	CHECK_EQ(x86_branch_offset(&in), 0x12);
	CHECK_EQ(decode(BYTES(0xe9, 0xfb, 0xff, 0xff, 0xff), &in), 5); /* jmp to itself */
	CHECK_EQ(x86_branch_offset(&in), 0);
	CHECK_EQ(decode(BYTES(0xe8, 0x55, 0xb9, 0xff, 0xff), &in), 5); /* call rel32 */
	CHECK_EQ(in.cls, X86_CALL_REL);
	CHECK_EQ(x86_branch_offset(&in), 5 - 0x46ab);
	CHECK_EQ(decode(BYTES(0x74, 0x05), &in), 2); /* je: short jcc */
	CHECK_EQ(in.cls, X86_JCC);
	CHECK_EQ(x86_branch_offset(&in), 7);
	CHECK_EQ(decode(BYTES(0x0f, 0x84, 0xbf, 0, 0, 0), &in), 6); /* je: near jcc */
	CHECK_EQ(in.cls, X86_JCC);
	CHECK_EQ(x86_branch_offset(&in), 6 + 0xbf);
	CHECK_EQ(decode(BYTES(0x0f, 0x8e, 0xd6, 0, 0, 0), &in), 6); /* jle */
	CHECK_EQ(in.cls, X86_JCC);
	CHECK_EQ(decode(BYTES(0xff, 0xd0), &in), 2); /* call *%rax */
	CHECK_EQ(in.cls, X86_OTHER);
}

static void test_push_pop_nop_endbr(void)
{
	struct x86_insn in;
	CHECK_EQ(decode(BYTES(0x55), &in), 1);
	CHECK_EQ(in.cls, X86_PUSH);
	CHECK_EQ(decode(BYTES(0x41, 0x57), &in), 2);
	CHECK_EQ(in.cls, X86_PUSH);
	CHECK_EQ(decode(BYTES(0x5b), &in), 1);
	CHECK_EQ(in.cls, X86_POP);
	CHECK_EQ(decode(BYTES(0x90), &in), 1);
	CHECK_EQ(in.cls, X86_NOP);
	CHECK_EQ(decode(BYTES(0x66, 0x90), &in), 2);
	CHECK_EQ(in.cls, X86_NOP);
	CHECK_EQ(decode(BYTES(0x41, 0x90), &in), 2); /* xchg %eax,%r8d */
	CHECK_EQ(in.cls, X86_OTHER);
	CHECK_EQ(decode(BYTES(0xf3, 0x90), &in), 2); /* pause */
	CHECK_EQ(in.cls, X86_OTHER);
	/* the multi-byte nops compilers pad with, 3 to 10 bytes */
	CHECK_EQ(decode(BYTES(0x0f, 0x1f, 0x00), &in), 3);
	CHECK_EQ(in.cls, X86_NOP);
	CHECK_EQ(len_of(BYTES(0x0f, 0x1f, 0x40, 0x00)), 4);
	CHECK_EQ(len_of(BYTES(0x0f, 0x1f, 0x44, 0x00, 0x00)), 5);
	CHECK_EQ(len_of(BYTES(0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00)), 6);
	CHECK_EQ(len_of(BYTES(0x0f, 0x1f, 0x80, 0, 0, 0, 0)), 7);
	CHECK_EQ(len_of(BYTES(0x0f, 0x1f, 0x84, 0x00, 0, 0, 0, 0)), 8);
	CHECK_EQ(len_of(BYTES(0x66, 0x0f, 0x1f, 0x84, 0x00, 0, 0, 0, 0)), 9);
	CHECK_EQ(decode(BYTES(0x66, 0x2e, 0x0f, 0x1f, 0x84, 0x00, 0, 0, 0, 0), &in), 10);
	CHECK_EQ(in.cls, X86_NOP);
	CHECK_EQ(decode(BYTES(0xf3, 0x0f, 0x1e, 0xfa), &in), 4);
	CHECK_EQ(in.cls, X86_ENDBR64);
	CHECK_EQ(decode(BYTES(0xf3, 0x0f, 0x1e, 0xfb), &in), 4); /* endbr32 */
	CHECK_EQ(in.cls, X86_OTHER);
}

static void test_multibyte_maps_and_vex(void)
{
	CHECK_EQ(len_of(BYTES(0x66, 0x0f, 0x38, 0x00, 0xc1)), 5);	/* pshufb */
	CHECK_EQ(len_of(BYTES(0x66, 0x0f, 0x3a, 0x0f, 0xc1, 0x08)), 6); /* palignr $8 */
	CHECK_EQ(len_of(BYTES(0x66, 0x0f, 0xef, 0xc0)), 4);		/* pxor */
	CHECK_EQ(len_of(BYTES(0x0f, 0x29, 0x44, 0x24, 0x10)), 5); /* movaps %xmm0,0x10(%rsp) */
	CHECK_EQ(len_of(BYTES(0xc5, 0xf8, 0x77)), 3);		  /* vzeroupper */
	CHECK_EQ(len_of(BYTES(0xc5, 0xfd, 0x6f, 0x06)), 4);	  /* vmovdqa (%rsi),%ymm0 */
	CHECK_EQ(len_of(BYTES(0xc4, 0xe2, 0x79, 0x00, 0xc1)), 5); /* vpshufb */
	CHECK_EQ(len_of(BYTES(0xc4, 0xe3, 0x79, 0x0f, 0xc1, 0x08)), 6); /* vpalignr $8 */
	CHECK_EQ(len_of(BYTES(0x62, 0xf1, 0x7d, 0x48, 0x6f, 0x06)), 6); /* vmovdqa32 (%rsi) */
	/* vmovdqa64 %zmm0,0x40(%rsp): a compressed disp8 */
	CHECK_EQ(len_of(BYTES(0x62, 0xf1, 0xfd, 0x48, 0x7f, 0x44, 0x24, 0x01)), 8);
}

static void test_undecodable_refused(void)
{
	CHECK_EQ(len_of(BYTES(0x06)), 0);		    /* push %es: not in 64-bit mode */
	CHECK_EQ(len_of(BYTES(0x9a, 0, 0, 0, 0, 0, 0)), 0); /* far call */
	CHECK_EQ(len_of(BYTES(0xd4, 0x0a)), 0);		    /* aam */
	CHECK_EQ(len_of(BYTES(0x0f, 0x04)), 0);
	CHECK_EQ(len_of(BYTES(0xc4, 0xe0, 0x79, 0x00, 0xc1)), 0);	/* VEX map 0 */
	CHECK_EQ(len_of(BYTES(0x48, 0xc5, 0xf8, 0x77)), 0);		/* REX before VEX */
	CHECK_EQ(len_of(BYTES(0x8f, 0xe8, 0x78, 0xc2, 0xc1, 0x00)), 0); /* XOP */
	/* cut short: no ModRM, half an immediate, a lone prefix or escape */
	CHECK_EQ(len_of(BYTES(0x48, 0x89)), 0);
	CHECK_EQ(len_of(BYTES(0xe8, 0x00, 0x00)), 0);
	CHECK_EQ(len_of(BYTES(0x48, 0x8b, 0x3d, 0x71, 0xd0)), 0);
	CHECK_EQ(len_of(BYTES(0x48)), 0);
	CHECK_EQ(len_of(BYTES(0x0f)), 0);
	CHECK_EQ(len_of(BYTES(0x0f, 0x38)), 0);
	CHECK_EQ(x86_decode(NULL, 0, &(struct x86_insn){0}), 0);
}

static void test_register_effects(void)
{
	CHECK_EQ(writes(BYTES(0x48, 0x89, 0xfe)), X86_RSI);		/* mov %rdi,%rsi */
	CHECK_EQ(writes(BYTES(0x48, 0x8b, 0x3d, 1, 0, 0, 0)), X86_RDI); /* mov x(%rip),%rdi */
	CHECK_EQ(writes(BYTES(0x48, 0x85, 0xff)), X86_NO_REG);		/* test */
	CHECK_EQ(writes(BYTES(0x80, 0x3d, 1, 2, 3, 4, 0)), X86_NO_REG); /* cmpb $0,x(%rip) */
	CHECK_EQ(writes(BYTES(0x48, 0x83, 0xec, 0x10)), X86_RSP);	/* sub $0x10,%rsp */
	CHECK_EQ(writes(BYTES(0x48, 0x8d, 0x77, 0xf0)), X86_RSI);	/* lea */
	CHECK_EQ(writes(BYTES(0x4c, 0x8b, 0xa7, 0xb0, 0, 0, 0)), 12);	/* mov ...,%r12 */
	CHECK_EQ(writes(BYTES(0x41, 0xb8, 1, 0, 0, 0)), 8);		/* mov $1,%r8d */
	CHECK_EQ(writes(BYTES(0x64, 0x48, 0x8b, 0x04, 0x25, 0x28, 0, 0, 0)), X86_RAX);
	CHECK_EQ(writes(BYTES(0x0f, 0x44, 0xc2)), X86_RAX); /* cmove %edx,%eax */
	CHECK_EQ(writes(BYTES(0x0f, 0x94, 0xc1)), X86_RCX); /* sete %cl */
	/* byte registers 4-7 are %ah-%bh without REX, %spl-%dil with it */
	CHECK_EQ(writes(BYTES(0x88, 0xc4)), X86_RAX);	    /* mov %al,%ah */
	CHECK_EQ(writes(BYTES(0x40, 0x88, 0xc4)), X86_RSP); /* mov %al,%spl */
	CHECK_EQ(writes(BYTES(0xb7, 0x01)), X86_RBX);	    /* mov $1,%bh */
	/* stores, two registers, the stack, locked and vector: not modelled */
	CHECK_EQ(writes(BYTES(0x48, 0x89, 0x7c, 0x24, 0x08)), -2); /* mov %rdi,8(%rsp) */
	CHECK_EQ(writes(BYTES(0x48, 0xc7, 0x44, 0x24, 0x08, 0, 0, 0, 0)), -2);
	CHECK_EQ(writes(BYTES(0x48, 0xf7, 0xe2)), -2); /* mul %rdx */
	CHECK_EQ(writes(BYTES(0x48, 0x87, 0xfe)), -2); /* xchg */
	CHECK_EQ(writes(BYTES(0x55)), -2);
	CHECK_EQ(writes(BYTES(0xf0, 0x48, 0x0f, 0xb1, 0x17)), -2);
	CHECK_EQ(writes(BYTES(0xc5, 0xfd, 0x6f, 0x06)), -2);
	CHECK_EQ(writes(BYTES(0xe8, 0, 0, 0, 0)), -2);
}

static void test_emulated_classification(void)
{
	CHECK(emulated(BYTES(0x55)));	     /* push %rbp */
	CHECK(emulated(BYTES(0x41, 0x54)));  /* push %r12 */
	CHECK(!emulated(BYTES(0x40, 0x55))); /* REX other than 41 */
	CHECK(!emulated(BYTES(0x66, 0x50))); /* push %ax */
	CHECK(emulated(BYTES(0x90)));
	CHECK(emulated(BYTES(0x66, 0x90)));
	CHECK(emulated(BYTES(0x0f, 0x1f, 0x44, 0x00, 0x00)));
	CHECK(emulated(BYTES(0xf3, 0x0f, 0x1e, 0xfa)));	 /* endbr64 */
	CHECK(emulated(BYTES(0xe8, 0, 0, 0, 0)));	 /* call rel32 */
	CHECK(emulated(BYTES(0xe9, 0, 0, 0, 0)));	 /* jmp rel32 */
	CHECK(emulated(BYTES(0xeb, 0x00)));		 /* jmp rel8 */
	CHECK(emulated(BYTES(0x74, 0x00)));		 /* je rel8 */
	CHECK(emulated(BYTES(0x0f, 0x85, 0, 0, 0, 0)));	 /* jne rel32 */
	CHECK(!emulated(BYTES(0x66, 0xe9, 0, 0)));	 /* 16-bit operand: refused */
	CHECK(!emulated(BYTES(0x48, 0x85, 0xff)));	 /* test */
	CHECK(!emulated(BYTES(0x48, 0x89, 0xfe)));	 /* mov */
	CHECK(!emulated(BYTES(0x41, 0x90)));		 /* xchg */
	CHECK(!emulated(BYTES(0xf3, 0x90)));		 /* pause */
	CHECK(!emulated(BYTES(0xc3)));			 /* ret */
	CHECK(!emulated(BYTES(0xff, 0x25, 0, 0, 0, 0))); /* jmp *x(%rip) */
	CHECK(!emulated(BYTES(0x48, 0x83, 0xec, 0x08))); /* sub */
}

static struct placement place(const uint8_t *code, size_t len, unsigned nargs, bool ret,
			      bool null_guard)
{
	struct placement_need need = {nargs, ret, null_guard};
	return placement_choose(code, len, &need);
}

static void test_placement_null_guard(void)
{
	/* glibc's free: test %rdi,%rdi; je (rel32); push %rbp */
	const uint8_t free_start[] = {0x48, 0x85, 0xff, 0x0f, 0x84, 0xbf,
				      0,    0,	  0,	0x55, 0x48, 0x8d};
	struct placement p = place(free_start, sizeof(free_start), 1, false, true);
	CHECK_EQ(p.entry, 9);
	CHECK(p.past_null_guard && p.emulated);
	/* the short je form */
	p = place(BYTES(0x48, 0x85, 0xff, 0x74, 0x3c, 0x53), 1, false, true);
	CHECK_EQ(p.entry, 5);
	CHECK(p.past_null_guard);
	/* not with a return probe (NULL calls would miss it), nor when the
	 * caller does not allow it: then the je itself, which all calls pass */
	p = place(free_start, sizeof(free_start), 1, true, true);
	CHECK_EQ(p.entry, 3);
	CHECK_EQ(p.ret, 3);
	CHECK(!p.past_null_guard && p.emulated);
	p = place(free_start, sizeof(free_start), 1, false, false);
	CHECK_EQ(p.entry, 3);
	CHECK(!p.past_null_guard);
	/* a guard on %edi (32 bits) or a jne is not a NULL guard */
	p = place(BYTES(0x85, 0xff, 0x74, 0x3c, 0x53), 1, false, true);
	CHECK(!p.past_null_guard);
	p = place(BYTES(0x48, 0x85, 0xff, 0x75, 0x3c, 0x53), 1, false, true);
	CHECK(!p.past_null_guard);
	/* past the guard nothing emulated is reached: the je */
	p = place(BYTES(0x48, 0x85, 0xff, 0x74, 0x05, 0x48, 0x8b, 0x07, 0xc3), 1, false, true);
	CHECK_EQ(p.entry, 3);
	CHECK(!p.past_null_guard);
}

static void test_placement_walk(void)
{
	/* pyenv's PyObject_Malloc: mov %rdi,%rsi; test %rdi,%rdi; js; mov
	 * x(%rip),%rdi; jmp *x(%rip). One argument read: the js. */
	const uint8_t pyobject_malloc[] = {0x48, 0x89, 0xfe, 0x48, 0x85, 0xff, 0x78,
					   0x10, 0x48, 0x8b, 0x3d, 0x71, 0xd0, 0x2a,
					   0x00, 0xff, 0x25, 0x73, 0xd0, 0x2a, 0x00};
	struct placement p = place(pyobject_malloc, sizeof(pyobject_malloc), 1, true, false);
	CHECK_EQ(p.entry, 6);
	CHECK_EQ(p.ret, 6);
	CHECK(p.emulated);
	/* two arguments read: mov %rdi,%rsi clobbers the second, the start */
	p = place(pyobject_malloc, sizeof(pyobject_malloc), 2, true, false);
	CHECK_EQ(p.entry, 0);
	CHECK(!p.emulated);
	/* mov %rdi,%rsi then a push: the push */
	p = place(BYTES(0x48, 0x89, 0xfe, 0x53), 1, true, false);
	CHECK_EQ(p.entry, 3);
	CHECK_EQ(p.ret, 3);
	/* a first argument overwritten before anything emulated: the start */
	p = place(BYTES(0x48, 0x89, 0xfe, 0x48, 0x8b, 0x3d, 1, 0, 0, 0, 0x53), 1, true, false);
	CHECK_EQ(p.entry, 0);
	/* %rsp moved: the start (entry programs know calls by %rsp) */
	p = place(BYTES(0x48, 0x83, 0xec, 0x08, 0x53), 0, true, false);
	CHECK_EQ(p.entry, 0);
	/* a store: the start */
	p = place(BYTES(0x48, 0x89, 0x7c, 0x24, 0xf8, 0x53), 1, true, false);
	CHECK_EQ(p.entry, 0);
	/* a jcc back to the start is a loop: the start */
	p = place(BYTES(0x48, 0xff, 0xc8, 0x75, 0xfb, 0xc3), 0, false, false);
	CHECK_EQ(p.entry, 0);
	CHECK(!p.emulated);
	/* glibc 2.36's posix_memalign: cmpb $0,x(%rip); push %r12 */
	p = place(BYTES(0x80, 0x3d, 1, 2, 0x14, 0, 0, 0x41, 0x54, 0x49, 0x89, 0xd4), 3, true,
		  false);
	CHECK_EQ(p.entry, 7);
	/* emulated at once: the start */
	p = place(BYTES(0xf3, 0x0f, 0x1e, 0xfa, 0x55), 1, true, false);
	CHECK_EQ(p.entry, 0);
	CHECK(p.emulated);
	/* nothing decodable */
	p = place(BYTES(0x06), 1, true, false);
	CHECK_EQ(p.entry, 0);
	CHECK(!p.emulated);
}

static void test_placement_describe(void)
{
	char buf[64];
	placement_describe(&(struct placement){0, 0, true, false}, buf, sizeof(buf));
	CHECK_STR(buf, "ok");
	placement_describe(&(struct placement){0, 0, false, false}, buf, sizeof(buf));
	CHECK_STR(buf, "ok (single-stepped)");
	placement_describe(&(struct placement){9, 9, true, true}, buf, sizeof(buf));
	CHECK_STR(buf, "ok (at +9, past the NULL check)");
	placement_describe(&(struct placement){4, 4, true, false}, buf, sizeof(buf));
	CHECK_STR(buf, "ok (at +4)");
}

/* The first bytes of a function of the system libc, placed. */
static struct placement libc_place(const char *func, unsigned nargs, bool ret, bool null_guard,
				   struct x86_insn *at)
{
	char err[256];
	struct placement p = {0};
	struct elf_file *ef = elf_file_open("/lib/x86_64-linux-gnu/libc.so.6", err, sizeof(err));
	uint64_t vaddr, size;
	uint8_t code[64];
	CHECK(ef != NULL);
	if (!ef)
		return p;
	CHECK(!elf_file_symbol(ef, func, &vaddr, &size, NULL));
	size_t n = size && size < sizeof(code) ? size : sizeof(code);
	CHECK(!elf_file_read(ef, vaddr, code, n));
	p = placement_choose(code, n, &(struct placement_need){nargs, ret, null_guard});
	CHECK(x86_decode(code + p.entry, n - p.entry, at) > 0);
	elf_file_close(ef);
	return p;
}

static void test_placement_on_system_libc(void)
{
	struct x86_insn at;
	/* malloc starts with a push: probed there, return probe too */
	struct placement p = libc_place("malloc", 1, true, false, &at);
	CHECK_EQ(p.entry, 0);
	CHECK_EQ(p.ret, 0);
	CHECK(p.emulated);
	CHECK_EQ(at.cls, X86_PUSH);
	/* free: past its NULL guard, at its first push, free+9 */
	p = libc_place("free", 1, false, true, &at);
	CHECK_EQ(p.entry, 9);
	CHECK(p.past_null_guard && p.emulated);
	CHECK_EQ(at.cls, X86_PUSH);
}

int main(void)
{
	RUN(test_lengths_plain);
	RUN(test_lengths_with_prefixes);
	RUN(test_modrm_sib_disp);
	RUN(test_rip_relative);
	RUN(test_branches);
	RUN(test_push_pop_nop_endbr);
	RUN(test_multibyte_maps_and_vex);
	RUN(test_undecodable_refused);
	RUN(test_register_effects);
	RUN(test_emulated_classification);
	RUN(test_placement_null_guard);
	RUN(test_placement_walk);
	RUN(test_placement_describe);
	RUN(test_placement_on_system_libc);
	return unit_done();
}
