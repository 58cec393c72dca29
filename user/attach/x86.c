// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * x86-64 instruction decoding (Intel SDM vol. 2, chapter 2 and appendix
 * A): legacy prefixes, REX, VEX and EVEX, the one-, two- and three-byte
 * opcode maps, ModRM, SIB, displacements and immediates. Lengths are exact
 * for every 64-bit mode instruction; what an instruction does is only
 * modelled for the integer forms compilers put at a function's entry.
 */
#include <string.h>
#include "attach/x86.h"

/* Operand shapes of an opcode. */
enum {
	M = 1 << 0,	/* a ModRM byte follows */
	I8 = 1 << 1,	/* imm8 or rel8 */
	IZ = 1 << 2,	/* imm32, imm16 with 66 */
	IV = 1 << 3,	/* imm64 with REX.W, else as IZ (mov $imm, %reg) */
	I16 = 1 << 4,	/* imm16 */
	MOFFS = 1 << 5, /* a 64-bit address, 32-bit with 67 */
	REL32 = 1 << 6, /* rel32 (66 ignored, as Intel CPUs do) */
	BAD = 1 << 7,	/* not an instruction in 64-bit mode */
	MREG = 1 << 8,	/* ModRM names registers whatever its mod (mov to/from %cr, %dr) */
};

/* The one-byte map, a row per high nibble. Prefixes, REX, 0f, VEX and
 * EVEX are taken apart before it is looked at. */
// clang-format off
static const uint16_t map0[256] = {
	[0x00 ... 0x03] = M, [0x04] = I8, [0x05] = IZ, [0x06 ... 0x07] = BAD,
	[0x08 ... 0x0b] = M, [0x0c] = I8, [0x0d] = IZ, [0x0e] = BAD,
	[0x10 ... 0x13] = M, [0x14] = I8, [0x15] = IZ, [0x16 ... 0x17] = BAD,
	[0x18 ... 0x1b] = M, [0x1c] = I8, [0x1d] = IZ, [0x1e ... 0x1f] = BAD,
	[0x20 ... 0x23] = M, [0x24] = I8, [0x25] = IZ, [0x27] = BAD,
	[0x28 ... 0x2b] = M, [0x2c] = I8, [0x2d] = IZ, [0x2f] = BAD,
	[0x30 ... 0x33] = M, [0x34] = I8, [0x35] = IZ, [0x37] = BAD,
	[0x38 ... 0x3b] = M, [0x3c] = I8, [0x3d] = IZ, [0x3f] = BAD,
	[0x60 ... 0x61] = BAD, [0x63] = M, [0x68] = IZ, [0x69] = M | IZ, [0x6a] = I8,
	[0x6b] = M | I8,
	[0x70 ... 0x7f] = I8,
	[0x80] = M | I8, [0x81] = M | IZ, [0x82] = BAD, [0x83] = M | I8, [0x84 ... 0x8f] = M,
	[0x9a] = BAD,
	[0xa0 ... 0xa3] = MOFFS, [0xa8] = I8, [0xa9] = IZ,
	[0xb0 ... 0xb7] = I8, [0xb8 ... 0xbf] = IV,
	[0xc0 ... 0xc1] = M | I8, [0xc2] = I16, [0xc6] = M | I8, [0xc7] = M | IZ,
	[0xc8] = I16 | I8, [0xca] = I16, [0xcd] = I8, [0xce] = BAD,
	[0xd0 ... 0xd3] = M, [0xd4 ... 0xd6] = BAD, [0xd8 ... 0xdf] = M,
	[0xe0 ... 0xe7] = I8, [0xe8 ... 0xe9] = REL32, [0xea] = BAD, [0xeb] = I8,
	[0xf6 ... 0xf7] = M, [0xfe ... 0xff] = M,
};

/* The two-byte map (0f xx); 0f 38 and 0f 3a lead to the three-byte maps. */
static const uint16_t map1[256] = {
	[0x00 ... 0x03] = M, [0x04] = BAD, [0x0a] = BAD, [0x0c] = BAD, [0x0d] = M, [0x0f] = BAD,
	[0x10 ... 0x1f] = M,
	[0x20 ... 0x23] = M | MREG, [0x24 ... 0x27] = BAD, [0x28 ... 0x2f] = M,
	[0x36] = BAD, [0x39] = BAD, [0x3b ... 0x3f] = BAD,
	[0x40 ... 0x6f] = M,
	[0x70 ... 0x73] = M | I8, [0x74 ... 0x76] = M, [0x78 ... 0x7f] = M,
	[0x80 ... 0x8f] = REL32,
	[0x90 ... 0x9f] = M,
	[0xa3] = M, [0xa4] = M | I8, [0xa5] = M, [0xa6 ... 0xa7] = BAD, [0xab] = M,
	[0xac] = M | I8, [0xad ... 0xaf] = M,
	[0xb0 ... 0xb9] = M, [0xba] = M | I8, [0xbb ... 0xbf] = M,
	[0xc0 ... 0xc1] = M, [0xc2] = M | I8, [0xc3] = M, [0xc4 ... 0xc6] = M | I8, [0xc7] = M,
	[0xd0 ... 0xff] = M,
};
// clang-format on

static uint8_t legacy_prefix(uint8_t b)
{
	switch (b) {
	case 0x66:
		return X86_P_66;
	case 0x67:
		return X86_P_67;
	case 0xf2:
		return X86_P_F2;
	case 0xf3:
		return X86_P_F3;
	case 0xf0:
		return X86_P_LOCK;
	case 0x26:
	case 0x2e:
	case 0x36:
	case 0x3e:
	case 0x64:
	case 0x65:
		return X86_P_SEG;
	default:
		return 0;
	}
}

/* Little-endian value of n bytes, sign-extended (n < 8). */
static int64_t le_signed(const uint8_t *c, unsigned n)
{
	uint64_t v = 0;
	for (unsigned k = 0; k < n; k++)
		v |= (uint64_t)c[k] << (8 * k);
	if (n < 8 && (v >> (8 * n - 1)) & 1)
		v |= ~0ULL << (8 * n);
	return (int64_t)v;
}

/* VEX (c4, c5) and EVEX (62) prefixes: their length (2, 3 or 4), with the
 * opcode map and the REX bits they carry, or 0 when malformed. */
static unsigned vex_prefix(const uint8_t *c, size_t len, struct x86_insn *in, uint8_t *rex)
{
	unsigned n = c[0] == 0xc5 ? 2 : c[0] == 0xc4 ? 3 : 4;
	if (len < n + 1) /* and the opcode */
		return 0;
	/* R, X and B are stored inverted in the top bits of the first
	 * payload byte (c5 has R only); W is the top bit of the second */
	uint8_t inv = (uint8_t)~c[1];
	*rex = 0x40 | ((inv >> 5) & 4);
	if (n == 2) {
		in->map = 1;
		return n;
	}
	*rex |= ((inv >> 5) & 2) | ((inv >> 5) & 1) | ((c[2] >> 4) & 8);
	if (n == 3) {
		in->map = c[1] & 0x1f;
		return in->map >= 1 && in->map <= 3 ? n : 0;
	}
	/* EVEX: maps 1, 2, 3, 5 and 6; a fixed 1 in the second byte */
	in->map = c[1] & 7;
	if (!(c[2] & 4) || in->map == 0 || in->map == 4 || in->map == 7)
		return 0;
	return n;
}

/* Operand shape of a VEX or EVEX opcode: every one has ModRM but vzeroupper
 * and vzeroall (map 1, 77); immediates as in the legacy maps. */
static uint16_t vex_shape(uint8_t map, uint8_t op)
{
	if (map == 1)
		return op == 0x77 ? 0 : M | (map1[op] & I8);
	return map == 3 ? M | I8 : M;
}

static enum x86_class classify(const struct x86_insn *in, uint8_t modrm)
{
	if (in->vex)
		return X86_OTHER;
	if (in->map == 1) {
		if (in->op == 0x1f && in->ext == 0)
			return X86_NOP;
		if (in->op == 0x1e && modrm == 0xfa && !in->rex && in->prefixes == X86_P_F3)
			return X86_ENDBR64;
		return in->op >= 0x80 && in->op <= 0x8f ? X86_JCC : X86_OTHER;
	}
	if (in->map != 0)
		return X86_OTHER;
	uint8_t op = in->op;
	if (op >= 0x50 && op <= 0x57)
		return X86_PUSH;
	if (op >= 0x58 && op <= 0x5f)
		return X86_POP;
	if (op >= 0x70 && op <= 0x7f)
		return X86_JCC;
	switch (op) {
	case 0x90: /* with REX.B: xchg %r8,%rax; with rep: pause */
		return (in->rex & 1) || (in->prefixes & X86_P_F3) ? X86_OTHER : X86_NOP;
	case 0xe8:
		return X86_CALL_REL;
	case 0xe9:
	case 0xeb:
		return X86_JMP_REL;
	case 0xc2:
	case 0xc3:
		return X86_RET;
	case 0xff:
		return in->ext == 4 ? X86_JMP_IND : X86_OTHER;
	default:
		return X86_OTHER;
	}
}

unsigned x86_decode(const uint8_t *c, size_t len, struct x86_insn *in)
{
	memset(in, 0, sizeof(*in));
	in->reg = in->rm = X86_NO_REG;
	if (len > 15)
		len = 15;
	size_t i = 0;
	uint8_t rex = 0, p;
	for (;; i++) {
		if (i >= len)
			return 0;
		if ((p = legacy_prefix(c[i]))) {
			in->prefixes |= p;
			rex = 0; /* REX counts only right before the opcode */
		} else if ((c[i] & 0xf0) == 0x40) {
			rex = c[i];
		} else {
			break;
		}
	}
	in->rex = rex;
	uint8_t b = c[i++];
	uint16_t shape;
	if (b == 0xc4 || b == 0xc5 || b == 0x62) {
		if (rex || (in->prefixes & (X86_P_66 | X86_P_F2 | X86_P_F3 | X86_P_LOCK)))
			return 0;
		unsigned n = vex_prefix(c + i - 1, len - (i - 1), in, &rex);
		if (!n)
			return 0;
		in->vex = true;
		i += n - 1;
		in->op = c[i++];
		shape = vex_shape(in->map, in->op);
	} else if (b == 0x0f) {
		if (i >= len)
			return 0;
		b = c[i++];
		if (b == 0x38 || b == 0x3a) {
			if (i >= len)
				return 0;
			in->map = b == 0x38 ? 2 : 3;
			in->op = c[i++];
			shape = b == 0x38 ? M : M | I8;
		} else {
			in->map = 1;
			in->op = b;
			shape = map1[b];
		}
	} else {
		in->op = b;
		shape = map0[b];
	}
	if (shape & BAD)
		return 0;

	uint8_t modrm = 0;
	if (shape & M) {
		if (i >= len)
			return 0;
		modrm = c[i++];
		in->has_modrm = true;
		in->mod = modrm >> 6;
		in->ext = (modrm >> 3) & 7;
		in->reg = in->ext | ((rex & 4) << 1);
		unsigned base = modrm & 7;
		if (shape & MREG)
			in->mod = 3;
		if (in->mod == 3) {
			in->rm = base | ((rex & 1) << 3);
		} else {
			if (base == 4) {
				if (i >= len)
					return 0;
				in->has_sib = true;
				if (in->mod == 0 && (c[i] & 7) == 5)
					in->disp_len = 4; /* no base register */
				i++;
			} else if (in->mod == 0 && base == 5) {
				in->rip_relative = true;
				in->disp_len = 4;
			}
			if (in->mod == 1)
				in->disp_len = 1;
			else if (in->mod == 2)
				in->disp_len = 4;
		}
		if (!in->vex && in->map == 0) {
			/* group 3: test /0 /1 takes an immediate; 8f /1-7 is XOP */
			if ((b == 0xf6 || b == 0xf7) && in->ext <= 1)
				shape |= b == 0xf6 ? I8 : IZ;
			if (b == 0x8f && in->ext != 0)
				return 0;
		}
	}
	if (in->disp_len) {
		if (i + in->disp_len > len)
			return 0;
		in->disp = (int32_t)le_signed(c + i, in->disp_len);
		i += in->disp_len;
	}

	bool w = rex & 8, o16 = in->prefixes & X86_P_66;
	if (shape & IV)
		in->imm_len = w ? 8 : o16 ? 2 : 4;
	else if (shape & IZ)
		in->imm_len = o16 ? 2 : 4;
	else if (shape & MOFFS)
		in->imm_len = in->prefixes & X86_P_67 ? 4 : 8;
	else if (shape & REL32)
		in->imm_len = 4;
	else if (shape & I16)
		in->imm_len = shape & I8 ? 3 : 2; /* enter: imm16, imm8 */
	else if (shape & I8)
		in->imm_len = 1;
	if (in->imm_len) {
		if (i + in->imm_len > len)
			return 0;
		in->imm = le_signed(c + i, in->imm_len == 3 ? 2 : in->imm_len);
		i += in->imm_len;
	}
	in->len = (uint8_t)i;
	in->cls = classify(in, modrm);
	return in->len;
}

int64_t x86_branch_offset(const struct x86_insn *in)
{
	return in->len + in->imm;
}

/* Register-only form: the r/m operand is a register, else it is memory. */
static bool rm_is_reg(const struct x86_insn *in)
{
	return in->has_modrm && in->mod == 3;
}

bool x86_writes_only(const struct x86_insn *in, int *dst)
{
	int w = X86_NO_REG;
	bool byte = false; /* an 8-bit destination */
	uint8_t op = in->op;
	*dst = X86_NO_REG;
	if (in->vex || (in->prefixes & X86_P_LOCK))
		return false;
	if (in->map == 0 && op < 0x40 && (op & 7) <= 5) {
		/* add or adc sbb and sub xor cmp, in six forms each */
		unsigned form = op & 7;
		if ((op >> 3) == 7)
			return true; /* cmp */
		if (form <= 1 && !rm_is_reg(in))
			return false; /* a store */
		w = form <= 1 ? in->rm : form <= 3 ? in->reg : X86_RAX;
		byte = !(form & 1);
	} else if (in->map == 0) {
		switch (op) {
		case 0x63: /* movsxd */
		case 0x69: /* imul $imm */
		case 0x6b:
		case 0x8b: /* mov to the ModRM.reg register */
			w = in->reg;
			break;
		case 0x8a:
			w = in->reg;
			byte = true;
			break;
		case 0x8d: /* lea */
			if (rm_is_reg(in))
				return false;
			w = in->reg;
			break;
		case 0x80: /* ALU $imm: /7 is cmp */
		case 0x81:
		case 0x83:
			if (in->ext == 7)
				return true;
			if (!rm_is_reg(in))
				return false;
			w = in->rm;
			byte = op == 0x80;
			break;
		case 0x84: /* test */
		case 0x85:
		case 0xa8:
		case 0xa9:
			return true;
		case 0x88: /* mov from the ModRM.reg register */
		case 0x89:
		case 0xc0: /* shifts and rotates */
		case 0xc1:
		case 0xd0 ... 0xd3:
			if (!rm_is_reg(in))
				return false;
			w = in->rm;
			byte = !(op & 1);
			break;
		case 0xc6: /* mov $imm, r/m */
		case 0xc7:
			if (in->ext != 0 || !rm_is_reg(in))
				return false;
			w = in->rm;
			byte = op == 0xc6;
			break;
		case 0xf6: /* test /0 /1, not /2, neg /3; mul and div write two */
		case 0xf7:
			if (in->ext <= 1)
				return true;
			if (in->ext > 3 || !rm_is_reg(in))
				return false;
			w = in->rm;
			byte = op == 0xf6;
			break;
		case 0xfe: /* inc /0, dec /1 */
		case 0xff:
			if (in->ext > 1 || !rm_is_reg(in))
				return false;
			w = in->rm;
			byte = op == 0xfe;
			break;
		case 0x98: /* cbw, cwde, cdqe */
			w = X86_RAX;
			break;
		case 0x99: /* cwd, cdq, cqo */
			w = X86_RDX;
			break;
		case 0xb0 ... 0xbf: /* mov $imm, %reg */
			w = (op & 7) | ((in->rex & 1) << 3);
			byte = op < 0xb8;
			break;
		default:
			return false;
		}
	} else if (in->map == 1) {
		switch (op) {
		case 0x40 ... 0x4f: /* cmov */
		case 0xaf:	    /* imul */
		case 0xb6:	    /* movzx, movsx */
		case 0xb7:
		case 0xbe:
		case 0xbf:
		case 0xbc: /* bsf, bsr (tzcnt, lzcnt with rep) */
		case 0xbd:
			w = in->reg;
			break;
		case 0xb8: /* popcnt with rep, else jmpe */
			if (!(in->prefixes & X86_P_F3))
				return false;
			w = in->reg;
			break;
		case 0x90 ... 0x9f: /* setcc */
			if (!rm_is_reg(in))
				return false;
			w = in->rm;
			byte = true;
			break;
		case 0xa3: /* bt */
			return true;
		default:
			return false;
		}
	} else {
		return false;
	}
	/* without REX, byte registers 4-7 are %ah %ch %dh %bh */
	if (byte && !in->rex && w >= 4 && w <= 7)
		w -= 4;
	*dst = w;
	return true;
}
