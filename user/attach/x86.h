/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* x86-64 instruction decoding: the length, class and operands of one
 * instruction, enough to walk straight-line code at a function's entry. */
#ifndef ATTACH_X86_H
#define ATTACH_X86_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* General registers by number, as ModRM, SIB and REX encode them. */
enum x86_reg {
	X86_RAX,
	X86_RCX,
	X86_RDX,
	X86_RBX,
	X86_RSP,
	X86_RBP,
	X86_RSI,
	X86_RDI,
	X86_NO_REG = -1,
};

enum x86_class {
	X86_OTHER,    /* none of the below */
	X86_PUSH,     /* push %reg (50+r) */
	X86_POP,      /* pop %reg (58+r) */
	X86_NOP,      /* 90 (not xchg %r8,%rax nor pause), 0f 1f /0 */
	X86_ENDBR64,  /* f3 0f 1e fa */
	X86_JMP_REL,  /* jmp rel8 / rel32 */
	X86_CALL_REL, /* call rel32 */
	X86_JCC,      /* jcc rel8 / rel32 */
	X86_JMP_IND,  /* jmp *r/m */
	X86_RET,      /* ret, ret $imm16 */
};

/* Legacy prefixes seen (x86_insn.prefixes). */
#define X86_P_66   0x01 /* operand size */
#define X86_P_67   0x02 /* address size */
#define X86_P_F2   0x04 /* repne */
#define X86_P_F3   0x08 /* rep */
#define X86_P_LOCK 0x10
#define X86_P_SEG  0x20 /* any segment override (2e 36 3e 26 64 65) */

struct x86_insn {
	uint8_t len;	  /* bytes, 1 to 15 */
	uint8_t prefixes; /* X86_P_* */
	uint8_t rex;	  /* the REX byte (0x40-0x4f), 0 when none */
	bool vex;	  /* VEX or EVEX encoded */
	uint8_t map;	  /* opcode map: 0 one-byte, 1 0f, 2 0f 38, 3 0f 3a (VEX/EVEX: mmm) */
	uint8_t op;	  /* opcode byte within its map */
	bool has_modrm;
	uint8_t mod;	   /* ModRM.mod */
	uint8_t ext;	   /* ModRM.reg as written: the opcode extension of group opcodes */
	int reg;	   /* ModRM.reg as a register, REX.R applied */
	int rm;		   /* ModRM.rm as a register when mod == 3, REX.B applied */
	bool has_sib;	   /* a SIB byte follows ModRM */
	bool rip_relative; /* the memory operand is disp32(%rip) */
	uint8_t disp_len;  /* 0, 1 or 4 */
	int32_t disp;
	uint8_t imm_len; /* 0, 1, 2, 3 (enter), 4 or 8 bytes */
	int64_t imm;	 /* the first immediate, sign-extended (rel: the displacement) */
	enum x86_class cls;
};

/* Decode the instruction at code[0], of at most len bytes. Returns its
 * length (also in->len), or 0 when the bytes are cut short or are not an
 * instruction of 64-bit mode. */
unsigned x86_decode(const uint8_t *code, size_t len, struct x86_insn *in);

/* Where a relative jump or call goes, as an offset from the start of the
 * instruction (X86_JMP_REL, X86_CALL_REL, X86_JCC). */
int64_t x86_branch_offset(const struct x86_insn *in);

/* Whether the instruction only computes: it writes the flags and at most
 * one general register (*dst, X86_NO_REG for none), and no memory, no
 * other register, no %rip. False for anything else, and for any
 * instruction this decoder does not model (the caller then stops). */
bool x86_writes_only(const struct x86_insn *in, int *dst);

#endif
