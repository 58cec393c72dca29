// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Building a file's unwind table. libdw answers "what is the rule at this
 * address, and up to where does it hold" (dwarf_cfi_addrframe,
 * dwarf_frame_info); the table asks it at the start of every FDE and then
 * row after row until the FDE ends. FDE starts come from the binary search
 * table of .eh_frame_hdr (what the runtime unwinder uses too) and from the
 * FDE headers of .debug_frame, which hold absolute addresses.
 */
#include <dwarf.h>
#include <elfutils/libdwelf.h>
#include <fcntl.h>
#include <limits.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include "unwind/cfi_table.h"
#include "util/array.h"
#include "util/search.h"

/* Rows of one source, in order, neighbours with the same rule merged. */
struct rowvec {
	struct lb_cfi_row *rows;
	size_t n, cap, max;
};

static int push_row(struct rowvec *v, struct lb_cfi_row r)
{
	if (v->n) {
		struct lb_cfi_row *last = &v->rows[v->n - 1];
		if (r.pc < last->pc)
			return 0; /* overlapping FDEs: the first one wins */
		if (r.pc == last->pc) {
			*last = r;
			if (v->n > 1 && cfi_rule_same(&v->rows[v->n - 2], last))
				v->n--;
			return 0;
		}
		if (cfi_rule_same(last, &r))
			return 0;
	}
	if (v->n >= v->max || ARRAY_RESERVE(v->rows, v->cap, v->n + 1))
		return -1;
	v->rows[v->n++] = r;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Rows of every FDE starting at starts[0..n) (sorted here). */
static int rows_from_fdes(Dwarf_CFI *cfi, uint64_t *starts, size_t n, struct rowvec *out,
			  size_t *gaps)
{
	qsort(starts, n, sizeof(*starts), cmp_u64);
	for (size_t i = 0; i < n; i++) {
		uint64_t a = starts[i];
		uint64_t limit = i + 1 < n ? starts[i + 1] : UINT64_MAX;
		bool first = true;
		while (a < limit) {
			struct lb_cfi_row r = {.kind = LB_CFA_NONE};
			if (a > UINT32_MAX)
				return -1;
			r.pc = (uint32_t)a;
			Dwarf_Frame *f = NULL;
			if (dwarf_cfi_addrframe(cfi, a, &f)) {
				/* past the FDE's end: code without CFI up to the next */
				gaps[first ? CFI_GAP_LIBDW : CFI_GAP_NO_FDE]++;
				if (push_row(out, r))
					return -1;
				break;
			}
			Dwarf_Addr start = 0, end = 0;
			dwarf_frame_info(f, &start, &end, NULL);
			gaps[cfi_rule_from_frame(f, &r)]++;
			free(f);
			if (push_row(out, r))
				return -1;
			first = false;
			/* libdw may give the start of a remembered state as start:
			 * only end is used */
			if (end <= a)
				break;
			a = end;
		}
	}
	return 0;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Bytes of an encoded pointer (DW_EH_PE_* format nibble), 0 if unknown. */
static size_t eh_enc_size(uint8_t enc)
{
	switch (enc & 0x0f) {
	case DW_EH_PE_udata4:
	case DW_EH_PE_sdata4:
		return 4;
	case DW_EH_PE_udata8:
	case DW_EH_PE_sdata8:
	case DW_EH_PE_absptr:
		return 8;
	default:
		return 0;
	}
}

/* FDE start addresses from .eh_frame_hdr (found by PT_GNU_EH_FRAME):
 * version 1, then the encoded .eh_frame pointer and FDE count, then the
 * table of (start, FDE) pairs. Every linker writes the table as 4-byte
 * offsets from the header (datarel|sdata4); other forms are refused. */
static int eh_fde_starts(Elf *elf, uint64_t **out, size_t *nout)
{
	size_t nph;
	GElf_Phdr ph;
	bool found = false;
	if (elf_getphdrnum(elf, &nph))
		return -1;
	for (size_t i = 0; i < nph && !found; i++)
		found = gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_GNU_EH_FRAME;
	if (!found)
		return -1;
	Elf_Data *d = elf_getdata_rawchunk(elf, (int64_t)ph.p_offset, ph.p_filesz, ELF_T_BYTE);
	if (!d || d->d_size < 4)
		return -1;
	const uint8_t *p = d->d_buf;
	size_t size = d->d_size, pos = 4;
	uint8_t ptr_enc = p[1], cnt_enc = p[2], tab_enc = p[3];
	if (p[0] != 1 || tab_enc != (DW_EH_PE_datarel | DW_EH_PE_sdata4) ||
	    cnt_enc == DW_EH_PE_omit || eh_enc_size(cnt_enc) != 4)
		return -1;
	if (ptr_enc != DW_EH_PE_omit) {
		if (!eh_enc_size(ptr_enc))
			return -1;
		pos += eh_enc_size(ptr_enc);
	}
	if (pos + 4 > size)
		return -1;
	uint64_t count = le32(p + pos);
	pos += 4;
	if (count > (size - pos) / 8)
		return -1;
	uint64_t *starts = malloc((count ? count : 1) * sizeof(*starts));
	if (!starts)
		return -1;
	for (uint64_t i = 0; i < count; i++)
		starts[i] = ph.p_vaddr + (int64_t)(int32_t)le32(p + pos + 8 * i);
	*out = starts;
	*nout = count;
	return 0;
}

static int eh_frame_rows(Elf *elf, struct rowvec *out, struct cfi_table *t)
{
	uint64_t *starts = NULL;
	size_t n = 0;
	Dwarf_CFI *cfi = dwarf_getcfi_elf(elf);
	if (!cfi)
		return 0;
	int rc = 0;
	if (!eh_fde_starts(elf, &starts, &n)) {
		t->fdes += n;
		rc = rows_from_fdes(cfi, starts, n, out, t->gaps);
	}
	free(starts);
	dwarf_cfi_end(cfi);
	return rc;
}

/* The section called name with contents in the file, or NULL. */
static Elf_Scn *section_called(Elf *elf, const char *name)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;
	if (elf_getshdrstrndx(elf, &shstrndx))
		return NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		const char *n;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS)
			continue;
		n = elf_strptr(elf, shstrndx, sh.sh_name);
		if (n && !strcmp(n, name))
			return scn;
	}
	return NULL;
}

/* Its contents, uncompressed. */
static Elf_Data *section_named(Elf *elf, const char *name)
{
	Elf_Scn *scn = section_called(elf, name);
	GElf_Shdr sh;
	if (!scn || !gelf_getshdr(scn, &sh))
		return NULL;
	if ((sh.sh_flags & SHF_COMPRESSED) && elf_compress(scn, 0, 0) < 0)
		return NULL;
	return elf_getdata(scn, NULL);
}

/* An ELF file with a .debug_frame at path, opened (its Elf in *elf), or
 * -1. With want_crc, only when its CRC-32 is crc (a debuglink's check). */
static int open_with_debug_frame(const char *path, bool want_crc, GElf_Word crc, Elf **elf)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (want_crc) {
		unsigned char buf[65536];
		uLong sum = crc32(0, Z_NULL, 0);
		ssize_t n;
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			sum = crc32(sum, buf, (uInt)n);
		if (n < 0 || sum != crc) {
			close(fd);
			return -1;
		}
	}
	*elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (*elf && elf_kind(*elf) == ELF_K_ELF && section_called(*elf, ".debug_frame"))
		return fd;
	if (*elf)
		elf_end(*elf);
	*elf = NULL;
	close(fd);
	return -1;
}

/* The separate debug file of elf, when it has a .debug_frame: by build-id
 * under /usr/lib/debug/.build-id, else by debuglink next to path, in its
 * .debug/ or under /usr/lib/debug (where libdwfl looks). Looking for the
 * section first matters: opening a file for its DWARF decompresses every
 * debug section (200 ms for python3.11's), and on x86_64 the CFI is nearly
 * always in .eh_frame only. */
static int open_debug_file(Elf *elf, const char *path, Elf **delf)
{
	char file[PATH_MAX];
	const void *id;
	ssize_t len = dwelf_elf_gnu_build_id(elf, &id);
	if (len >= 2 && len <= 64) {
		const uint8_t *b = id;
		int k = snprintf(file, sizeof(file), "/usr/lib/debug/.build-id/%02x/", b[0]);
		for (ssize_t i = 1; i < len; i++)
			k += snprintf(file + k, sizeof(file) - (size_t)k, "%02x", b[i]);
		snprintf(file + k, sizeof(file) - (size_t)k, ".debug");
		int fd = open_with_debug_frame(file, false, 0, delf);
		if (fd >= 0)
			return fd;
	}
	GElf_Word crc;
	const char *link = dwelf_elf_gnu_debuglink(elf, &crc);
	const char *slash = strrchr(path, '/');
	if (!link || strchr(link, '/') || !slash)
		return -1;
	int dirlen = (int)(slash - path);
	const char *fmts[] = {"%.*s/%s", "%.*s/.debug/%s", "/usr/lib/debug%.*s/%s"};
	for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		if (snprintf(file, sizeof(file), fmts[i], dirlen, path, link) >= (int)sizeof(file))
			continue;
		int fd = open_with_debug_frame(file, true, crc, delf);
		if (fd >= 0)
			return fd;
	}
	return -1;
}

/* FDE starts of .debug_frame: each FDE header holds its absolute start. */
static int debug_fde_starts(Elf *elf, Elf_Data *d, uint64_t **out, size_t *nout)
{
	const unsigned char *ident = (const unsigned char *)elf_getident(elf, NULL);
	uint64_t *starts = NULL;
	size_t n = 0, cap = 0;
	Dwarf_Off off = 0, next;
	Dwarf_CFI_Entry e;
	if (!ident)
		return -1;
	while (off < d->d_size && dwarf_next_cfi(ident, d, false, off, &next, &e) == 0) {
		const uint8_t *at = e.fde.start;
		if (!dwarf_cfi_cie_p(&e) && at >= (const uint8_t *)d->d_buf &&
		    at + 8 <= (const uint8_t *)d->d_buf + d->d_size) {
			if (ARRAY_RESERVE(starts, cap, n + 1)) {
				free(starts);
				return -1;
			}
			starts[n++] = (uint64_t)le32(at) | (uint64_t)le32(at + 4) << 32;
		}
		if (next <= off)
			break;
		off = next;
	}
	*out = starts;
	*nout = n;
	return 0;
}

/* .debug_frame of the file, or of its separate debug file. */
static int debug_frame_rows(Elf *elf, const char *path, struct rowvec *out, struct cfi_table *t)
{
	Elf *delf = elf;
	int dfd = -1;
	if (!section_called(elf, ".debug_frame")) {
		dfd = open_debug_file(elf, path, &delf);
		if (dfd < 0)
			return 0;
	}
	int rc = 0;
	Dwarf *dw = dwarf_begin_elf(delf, DWARF_C_READ, NULL);
	Dwarf_CFI *cfi = dw ? dwarf_getcfi(dw) : NULL;
	Elf_Data *d = cfi ? section_named(delf, ".debug_frame") : NULL;
	uint64_t *starts = NULL;
	size_t n = 0;
	if (d && !debug_fde_starts(delf, d, &starts, &n)) {
		t->fdes += n;
		rc = rows_from_fdes(cfi, starts, n, out, t->gaps);
	}
	free(starts);
	if (dw)
		dwarf_end(dw);
	if (dfd >= 0) {
		elf_end(delf);
		close(dfd);
	}
	return rc;
}

/* The rule in force at the current position of a source. */
static struct lb_cfi_row rule_at(const struct rowvec *v, size_t next)
{
	struct lb_cfi_row none = {.kind = LB_CFA_NONE};
	return next ? v->rows[next - 1] : none;
}

/* .eh_frame's rule wherever it has one, .debug_frame's elsewhere. */
static int merge_sources(const struct rowvec *eh, const struct rowvec *dbg, struct rowvec *out)
{
	size_t i = 0, j = 0;
	while (i < eh->n || j < dbg->n) {
		uint64_t pa = i < eh->n ? eh->rows[i].pc : UINT64_MAX;
		uint64_t pb = j < dbg->n ? dbg->rows[j].pc : UINT64_MAX;
		uint64_t pc = pa < pb ? pa : pb;
		if (pa == pc)
			i++;
		if (pb == pc)
			j++;
		struct lb_cfi_row r = rule_at(eh, i);
		if (LB_CFI_RULE(r.kind) == LB_CFA_NONE)
			r = rule_at(dbg, j);
		r.pc = (uint32_t)pc;
		if (push_row(out, r))
			return -1;
	}
	return 0;
}

static int read_segments(Elf *elf, struct cfi_table *t, char *err, size_t errlen)
{
	size_t nph;
	if (elf_getphdrnum(elf, &nph)) {
		snprintf(err, errlen, "no program headers");
		return -1;
	}
	for (size_t i = 0; i < nph; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if ((ph.p_flags & PF_X) && ph.p_vaddr + ph.p_memsz > UINT32_MAX) {
			snprintf(err, errlen, "code above 4 GiB in the file's addresses");
			return -1;
		}
		if (ARRAY_RESERVE(t->segs, t->segcap, t->nsegs + 1)) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		t->segs[t->nsegs++] = (struct cfi_segment){ph.p_vaddr, ph.p_offset, ph.p_filesz};
	}
	return 0;
}

int cfi_table_build(int fd, const char *path, size_t max_rows, struct cfi_table *t, char *err,
		    size_t errlen)
{
	memset(t, 0, sizeof(*t));
	if (elf_version(EV_CURRENT) == EV_NONE) {
		snprintf(err, errlen, "libelf: %s", elf_errmsg(-1));
		return -1;
	}
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	GElf_Ehdr eh;
	if (!elf || elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &eh)) {
		snprintf(err, errlen, "not a readable ELF file");
		if (elf)
			elf_end(elf);
		return -1;
	}
	struct rowvec ehv = {.max = max_rows}, dbgv = {.max = max_rows}, all = {.max = max_rows};
	int rc = -1;
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_machine != EM_X86_64) {
		snprintf(err, errlen, "not an x86_64 ELF file");
		goto out;
	}
	if (read_segments(elf, t, err, errlen))
		goto out;
	if (eh_frame_rows(elf, &ehv, t) || debug_frame_rows(elf, path, &dbgv, t)) {
		snprintf(err, errlen, "more than %zu rows, CFI above 4 GiB or out of memory",
			 max_rows);
		goto out;
	}
	t->eh_frame = ehv.n > 0;
	t->debug_frame = dbgv.n > 0;
	if (!ehv.n && !dbgv.n) {
		snprintf(err, errlen, "no call-frame information");
		goto out;
	}
	if (!dbgv.n) {
		all = ehv;
		ehv.rows = NULL;
	} else if (merge_sources(&ehv, &dbgv, &all)) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	t->rows = all.rows;
	t->nrows = all.n;
	t->cap = all.cap;
	all.rows = NULL;
	rc = 0;
out:
	free(ehv.rows);
	free(dbgv.rows);
	free(all.rows);
	elf_end(elf);
	if (rc)
		cfi_table_free(t);
	return rc;
}

void cfi_table_free(struct cfi_table *t)
{
	free(t->rows);
	free(t->segs);
	memset(t, 0, sizeof(*t));
}

const struct lb_cfi_row *cfi_table_lookup(const struct cfi_table *t, uint64_t pc)
{
	size_t lo = SORTED_UPPER(t->rows, t->nrows, .pc, pc);
	return lo ? &t->rows[lo - 1] : NULL;
}

int cfi_table_bias(const struct cfi_table *t, uint64_t start, uint64_t off, uint64_t *bias)
{
	for (size_t i = 0; i < t->nsegs; i++) {
		const struct cfi_segment *s = &t->segs[i];
		/* mappings start at page boundaries, segments need not */
		uint64_t lo = s->offset & ~4095ULL;
		if (off >= lo && off < s->offset + s->filesz) {
			*bias = start - (s->vaddr - s->offset + off);
			return 0;
		}
	}
	return -1;
}
