// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Symbol lookup in ELF files with libelf. */
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "target/elf_file.h"

struct elf_file {
	int fd;
	Elf *elf;
	GElf_Ehdr ehdr;
	Elf_Scn *symtab, *dynsym;
};

struct elf_file *elf_file_open(const char *path, char *err, size_t errlen)
{
	if (elf_version(EV_CURRENT) == EV_NONE) {
		snprintf(err, errlen, "libelf: %s", elf_errmsg(-1));
		return NULL;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open %s: %m", path);
		return NULL;
	}
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	struct elf_file *f = calloc(1, sizeof(*f));
	if (!elf || !f || elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &f->ehdr)) {
		snprintf(err, errlen, "%s is not a readable ELF file", path);
		if (elf)
			elf_end(elf);
		close(fd);
		free(f);
		return NULL;
	}
	f->fd = fd;
	f->elf = elf;
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type == SHT_SYMTAB)
			f->symtab = scn;
		else if (sh.sh_type == SHT_DYNSYM)
			f->dynsym = scn;
	}
	return f;
}

void elf_file_close(struct elf_file *f)
{
	if (!f)
		return;
	elf_end(f->elf);
	close(f->fd);
	free(f);
}

bool elf_file_has_symtab(struct elf_file *f)
{
	return f->symtab != NULL;
}

int elf_file_type(struct elf_file *f)
{
	return f->ehdr.e_type;
}

/* File offset of a virtual address, through the PT_LOAD that holds it. */
/* Segment flags (PF_*) required of vaddr's segment: 0 for any. */
static int vaddr_to_off_in(struct elf_file *f, uint64_t vaddr, uint32_t need, uint64_t *off)
{
	size_t n;
	if (elf_getphdrnum(f->elf, &n))
		return -1;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(f->elf, (int)i, &ph) || ph.p_type != PT_LOAD ||
		    (ph.p_flags & need) != need)
			continue;
		if (vaddr >= ph.p_vaddr && vaddr < ph.p_vaddr + ph.p_filesz) {
			*off = vaddr - ph.p_vaddr + ph.p_offset;
			return 0;
		}
	}
	return -1;
}

static int vaddr_to_off(struct elf_file *f, uint64_t vaddr, uint64_t *off)
{
	return vaddr_to_off_in(f, vaddr, 0, off);
}

static int find_in(struct elf_file *f, Elf_Scn *scn, const char *name, GElf_Sym *out)
{
	GElf_Shdr sh;
	if (!scn || !gelf_getshdr(scn, &sh) || !sh.sh_entsize)
		return -1;
	Elf_Data *data = elf_getdata(scn, NULL);
	if (!data)
		return -1;
	size_t count = sh.sh_size / sh.sh_entsize;
	size_t nlen = strlen(name);
	for (size_t i = 0; i < count; i++) {
		GElf_Sym sym;
		if (!gelf_getsym(data, (int)i, &sym) || sym.st_shndx == SHN_UNDEF || !sym.st_value)
			continue;
		int type = GELF_ST_TYPE(sym.st_info);
		if (type != STT_FUNC && type != STT_OBJECT && type != STT_GNU_IFUNC &&
		    type != STT_TLS)
			continue;
		const char *s = elf_strptr(f->elf, sh.sh_link, sym.st_name);
		/* "malloc@@GLIBC_2.2.5" style names in some .symtab builds */
		if (s && !strncmp(s, name, nlen) && (s[nlen] == '\0' || s[nlen] == '@')) {
			*out = sym;
			return 0;
		}
	}
	return -1;
}

int elf_file_symbol(struct elf_file *f, const char *name, uint64_t *vaddr, uint64_t *size,
		    uint64_t *file_off)
{
	GElf_Sym sym;
	if (find_in(f, f->symtab, name, &sym) && find_in(f, f->dynsym, name, &sym))
		return -1;
	if (vaddr)
		*vaddr = sym.st_value;
	if (size)
		*size = sym.st_size;
	if (file_off && vaddr_to_off(f, sym.st_value, file_off))
		return -1;
	return 0;
}

int elf_file_offset(struct elf_file *f, uint64_t vaddr, uint64_t *off)
{
	return vaddr_to_off(f, vaddr, off);
}

int elf_file_code_offset(struct elf_file *f, uint64_t vaddr, uint64_t *off)
{
	return vaddr_to_off_in(f, vaddr, PF_X, off);
}

int elf_file_read(struct elf_file *f, uint64_t vaddr, void *buf, size_t len)
{
	uint64_t off;
	if (vaddr_to_off(f, vaddr, &off))
		return -1;
	ssize_t n = pread(f->fd, buf, len, (off_t)off);
	return n == (ssize_t)len ? 0 : -1;
}

bool elf_file_needs(struct elf_file *f, const char *prefix)
{
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(f->elf, scn))) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNAMIC || !sh.sh_entsize)
			continue;
		Elf_Data *data = elf_getdata(scn, NULL);
		for (size_t i = 0; data && i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Dyn dyn;
			if (!gelf_getdyn(data, (int)i, &dyn) || dyn.d_tag != DT_NEEDED)
				continue;
			const char *name = elf_strptr(f->elf, sh.sh_link, dyn.d_un.d_val);
			if (name && !strncmp(name, prefix, strlen(prefix)))
				return true;
		}
	}
	return false;
}

static bool fp_prologue(const uint8_t *c)
{
	static const uint8_t push_mov[4] = {0x55, 0x48, 0x89, 0xe5};
	static const uint8_t endbr[4] = {0xf3, 0x0f, 0x1e, 0xfa};
	if (!memcmp(c, endbr, 4))
		c += 4;
	return !memcmp(c, push_mov, 4);
}

double elf_file_fp_share(struct elf_file *f)
{
	Elf_Scn *scn = f->symtab ? f->symtab : f->dynsym;
	GElf_Shdr sh;
	if (!scn || !gelf_getshdr(scn, &sh) || !sh.sh_entsize)
		return -1;
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t count = sh.sh_size / sh.sh_entsize, seen = 0, fp = 0;
	/* a spread-out sample is plenty to tell the two apart */
	size_t step = count / 400 + 1;
	for (size_t i = 0; data && i < count && seen < 400; i += step) {
		GElf_Sym sym;
		uint8_t code[8];
		if (!gelf_getsym(data, (int)i, &sym) || GELF_ST_TYPE(sym.st_info) != STT_FUNC ||
		    sym.st_shndx == SHN_UNDEF || sym.st_size < 16 ||
		    elf_file_read(f, sym.st_value, code, sizeof(code)))
			continue;
		seen++;
		fp += fp_prologue(code);
	}
	return seen ? (double)fp / (double)seen : -1;
}
