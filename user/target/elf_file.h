/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Symbol lookup in ELF files (libelf): where to put probes. */
#ifndef ELFSYM_H
#define ELFSYM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct elf_file;

struct elf_file *elf_file_open(const char *path, char *err, size_t errlen);
void elf_file_close(struct elf_file *f);

/* Look name up in .symtab then .dynsym (version suffixes ignored).
 * On success sets *vaddr (st_value), *size and *file_off (offset in the
 * file, as uprobes want it). Returns 0, or -1 when absent. */
int elf_file_symbol(struct elf_file *f, const char *name, uint64_t *vaddr, uint64_t *size,
		    uint64_t *file_off);

/* File offset of virtual address vaddr. 0, or -1 when not in the file. */
int elf_file_offset(struct elf_file *f, uint64_t vaddr, uint64_t *off);

/* The same, only for an address in an executable segment (code). */
int elf_file_code_offset(struct elf_file *f, uint64_t vaddr, uint64_t *off);

/* Read len bytes at virtual address vaddr from the file. 0 on success. */
int elf_file_read(struct elf_file *f, uint64_t vaddr, void *buf, size_t len);

bool elf_file_has_symtab(struct elf_file *f);
/* Share (0..1) of sampled functions that start by setting up a frame
 * pointer (push %rbp; mov %rsp,%rbp): tells code built with frame pointers
 * from code built without. -1 when there are no function symbols. */
double elf_file_fp_share(struct elf_file *f);
/* Whether a DT_NEEDED entry starts with prefix (e.g. "libpython"). */
bool elf_file_needs(struct elf_file *f, const char *prefix);
/* ELF type: ET_EXEC or ET_DYN. */
int elf_file_type(struct elf_file *f);

#endif
