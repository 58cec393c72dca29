// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Native symbolizer on elfutils libdwfl.
 *
 * Modules come from /proc/PID/maps. Every ELF is opened through the target's
 * own view (/proc/PID/map_files/START-END, else /proc/PID/root/PATH) and its
 * symbols and debuginfo are loaded eagerly, because the final report is made
 * after the target exited, when none of those paths exist any more.
 * Address -> module lookups use our own table (not dwfl_addrmodule) so that
 * modules unmapped by dlclose() keep resolving addresses captured earlier.
 * Not thread-safe: one symbolizer per thread.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <elfutils/libdwfl.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "util/array.h"
#include "util/intern.h"
#include "target/maps.h"
#include "symbols/demangle.h"
#include "symbols/frame_cache.h"
#include "symbols/inlines.h"
#include "symbols/symbolizer.h"
#include "util/search.h"

/* Memory for the names of frames (functions, files): a target's ELF files
 * can name anything, at any length. Past it new frames go unnamed (their
 * module and offset shown, counted) until symbolizer_trim, between
 * reports, starts them over. */
#define NAME_BYTES (32u << 20)

/* One mapped object, as the target sees it. */
struct sym_module {
	uint64_t start;	    /* first mapping of the object */
	uint64_t end;	    /* end of its last file-backed mapping */
	uint64_t first_end; /* end of the first mapping (map_files name) */
	uint64_t map_off;   /* file offset of the first mapping */
	uint64_t inode;
	const char *path; /* interned, exactly as in maps */
	Dwfl_Module *dm;  /* NULL when no ELF could be loaded */
	size_t obj;	  /* index into symbolizer.objs when dm */
	uint64_t bias;	  /* load bias: ELF vaddr + bias = address */
	bool exec;
	bool deleted; /* path ends in " (deleted)" */
	bool tried;   /* loading was attempted (dm may still be NULL) */
};

/* A function symbol, for our own address -> name search (dwfl's is a
 * linear scan per lookup: far too slow on libc's or libpython's tables). */
struct sym_func {
	uint64_t addr; /* absolute, in the target */
	uint64_t size;
	bool sizeless;	  /* size inferred from the section / next symbol */
	const char *name; /* owned by dwfl, lives as long as the module */
	unsigned rank;	  /* lower is preferred among aliases at one address */
};

/* An ELF reported to dwfl. Kept for the symbolizer's lifetime, so frames
 * captured before a dlclose() still resolve. */
struct sym_object {
	const char *path;
	uint64_t inode;
	uint64_t bias;
	Dwfl_Module *dm;
	struct sym_func *funcs; /* sorted by addr, one per address; built on first need */
	size_t nfuncs;
	bool funcs_built;
};

/* An address range mapped in the target right now. */
struct sym_range {
	uint64_t start, end;
};

struct symbolizer {
	pid_t pid;
	int procfd; /* /proc/PID: openat() through it fails once the task is gone,
		     * even if the PID gets reused */
	Dwfl *dwfl;
	Dwfl_Callbacks cb; /* dwfl keeps a pointer to it */
	char *debuginfo_path;
	struct sym_module *mods; /* sorted by start, non-overlapping */
	size_t nmods;
	struct sym_object *objs;
	size_t nobjs, capobjs;
	unsigned serial;       /* makes dwfl module names unique */
	struct interner paths; /* module paths, as long as the symbolizer */
	struct interner names; /* functions and files of frames: within NAME_BYTES */
	uint64_t names_unkept; /* frames left unnamed: names past NAME_BYTES */
	uint64_t restarts;     /* caches started over at their bounds */
	struct frame_cache cache;
	struct inline_index *inlines;		 /* NULL without memory: no inline frames */
	struct rm_frame scratch[INLINE_MAX + 1]; /* an address's frames when not cached */
};

static void set_err(char *err, size_t errlen, const char *fmt, const char *what)
{
	if (err && errlen)
		snprintf(err, errlen, fmt, what);
}

/* ---- modules ---- */

static const struct sym_module *find_module(const struct symbolizer *s, uint64_t addr)
{
	size_t lo = SORTED_UPPER(s->mods, s->nmods, .start, addr);

	if (lo && addr < s->mods[lo - 1].end)
		return &s->mods[lo - 1];
	return NULL;
}

static bool same_object(const struct sym_module *a, const struct sym_module *b)
{
	return a->start == b->start && a->map_off == b->map_off && a->inode == b->inode &&
	       a->path == b->path;
}

/* The target's mappings as objects, and the address ranges mapped now. */
struct maps_view {
	struct symbolizer *s;
	struct sym_module *mods;
	size_t nmods, capmods;
	struct sym_range *ranges; /* adjacent mappings joined */
	size_t nranges, capranges;
};

/* Objects are runs of mappings of the same file. Anonymous mappings between
 * them (alignment gaps, .bss) do not end a run. */
static int add_mapping(const struct maps_entry *e, void *arg)
{
	struct maps_view *v = arg;
	struct sym_module *cur = v->nmods ? &v->mods[v->nmods - 1] : NULL;

	if (v->nranges && v->ranges[v->nranges - 1].end == e->start) {
		v->ranges[v->nranges - 1].end = e->end;
	} else {
		if (ARRAY_RESERVE(v->ranges, v->capranges, v->nranges + 1))
			return -1;
		v->ranges[v->nranges++] = (struct sym_range){e->start, e->end};
	}
	if (!*e->path)
		return 0; /* anonymous: keeps the current run open */
	bool exec = e->perms[2] == 'x';

	if (cur && cur->inode == e->inode && !strcmp(cur->path, e->path) && e->start >= cur->end) {
		cur->end = e->end;
		cur->exec |= exec;
		return 0;
	}
	if (ARRAY_RESERVE(v->mods, v->capmods, v->nmods + 1))
		return -1;
	cur = &v->mods[v->nmods++];
	*cur = (struct sym_module){.start = e->start,
				   .end = e->end,
				   .first_end = e->end,
				   .map_off = e->offset,
				   .inode = e->inode,
				   .path = interner_str(&v->s->paths, e->path),
				   .exec = exec,
				   .deleted = e->deleted};
	return cur->path ? 0 : -1;
}

/* Read /proc/PID/maps into v. Returns false when maps cannot be read or is
 * empty (target gone). */
static bool read_maps(struct symbolizer *s, struct maps_view *v)
{
	int fd = openat(s->procfd, "maps", O_RDONLY | O_CLOEXEC);

	*v = (struct maps_view){.s = s};
	if (fd < 0)
		return false;
	int rc = maps_read_fd(fd, add_mapping, v, NULL);

	close(fd);
	if (rc || !v->nmods) {
		free(v->mods);
		free(v->ranges);
		return false;
	}
	/* Only objects with code can appear in a stack. */
	size_t k = 0;

	for (size_t i = 0; i < v->nmods; i++)
		if (v->mods[i].exec)
			v->mods[k++] = v->mods[i];
	v->nmods = k;
	return true;
}

/*
 * Open the object's file as the target sees it: the mapping itself via
 * map_files (works for deleted files and other mount namespaces), else the
 * path under the target's root. *name gets a path for dwfl, whose directory
 * it searches for .gnu_debuglink files.
 */
static int open_object(struct symbolizer *s, const struct sym_module *m, char *name, size_t len)
{
	bool deleted = m->deleted;
	char rel[4096 + 16];
	struct stat st;
	int fd = -1;

	snprintf(rel, sizeof(rel), "map_files/%" PRIx64 "-%" PRIx64, m->start, m->first_end);
	/* stat first: opening a mapped device node could have side effects. */
	if (!fstatat(s->procfd, rel, &st, 0) && S_ISREG(st.st_mode))
		fd = openat(s->procfd, rel, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && (deleted || m->path[0] != '/')) {
		snprintf(name, len, "/proc/%d/%s", (int)s->pid, rel);
		return fd;
	}
	snprintf(rel, sizeof(rel), "root%s", m->path);
	if (fd < 0 && !deleted && m->path[0] == '/' && !fstatat(s->procfd, rel, &st, 0) &&
	    S_ISREG(st.st_mode))
		fd = openat(s->procfd, rel, O_RDONLY | O_CLOEXEC);
	snprintf(name, len, "/proc/%d/%s", (int)s->pid, rel);
	return fd;
}

/* Load bias of an ELF whose file offset map_off is mapped at map_start. */
static bool elf_bias(Elf *elf, uint64_t map_start, uint64_t map_off, uint64_t *bias)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	GElf_Ehdr eh;
	size_t phnum;

	if (elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &eh))
		return false;
	if (eh.e_type == ET_EXEC) {
		*bias = 0;
		return true;
	}
	if (eh.e_type != ET_DYN || elf_getphdrnum(elf, &phnum))
		return false;
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		/* The kernel maps the segment from its page-aligned offset. */
		if ((ph.p_offset & ~(page - 1)) <= map_off && map_off < ph.p_offset + ph.p_filesz) {
			*bias = map_start - (ph.p_vaddr - ph.p_offset + map_off);
			return true;
		}
	}
	return false;
}

static struct sym_object *find_object(struct symbolizer *s, const char *path, uint64_t inode,
				      uint64_t bias)
{
	for (size_t i = 0; i < s->nobjs; i++)
		if (s->objs[i].path == path && s->objs[i].inode == inode && s->objs[i].bias == bias)
			return &s->objs[i];
	return NULL;
}

/*
 * Report m's ELF to dwfl (between report_begin_add and report_end). Sets
 * m->dm/bias; returns true when a new dwfl module was reported.
 */
static bool report_object(struct symbolizer *s, struct sym_module *m)
{
	char name[4096 + 32];
	int fd = open_object(s, m, name, sizeof(name));

	if (fd < 0)
		return false;
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	uint64_t bias;
	bool ok = elf && elf_bias(elf, m->start, m->map_off, &bias);

	elf_end(elf);
	if (!ok) {
		close(fd);
		return false;
	}
	/* Same file at the same place again (dlclose + dlopen, or a split
	 * run in maps): one dwfl module serves all of them. */
	struct sym_object *obj = find_object(s, m->path, m->inode, bias);

	if (obj) {
		close(fd);
		m->dm = obj->dm;
		m->obj = (size_t)(obj - s->objs);
		m->bias = bias;
		return false;
	}
	if (ARRAY_RESERVE(s->objs, s->capobjs, s->nobjs + 1)) {
		close(fd);
		return false;
	}
	/* Unique dwfl names: dwfl_report_elf() would otherwise hand back (or,
	 * on a mismatch, discard) an older module of the same name and range. */
	char modname[4096 + 32];

	snprintf(modname, sizeof(modname), "%s#%u", m->path, s->serial++);
	Dwfl_Module *dm = dwfl_report_elf(s->dwfl, modname, name, fd, bias, true);

	if (!dm) {
		close(fd); /* only consumed on success */
		return false;
	}
	s->objs[s->nobjs] =
	    (struct sym_object){.path = m->path, .inode = m->inode, .bias = bias, .dm = dm};
	m->obj = s->nobjs++;
	m->dm = dm;
	m->bias = bias;
	return true;
}

static int cmp_module(const void *a, const void *b)
{
	const struct sym_module *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static bool overlaps_any(const struct sym_range *r, size_t n, uint64_t start, uint64_t end)
{
	/* first range ending after start */
	size_t lo = SORTED_UPPER(r, n, .end, start);

	return lo < n && r[lo].start < end;
}

/* Load everything needed to resolve a module later, target alive or not. */
static void load_eagerly(Dwfl_Module *dm)
{
	Dwarf_Addr bias;

	dwfl_module_getelf(dm, &bias);
	dwfl_module_getdwarf(dm, &bias);
	dwfl_module_getsymtab(dm);
}

/* Returns false when the maps could not be read (target gone). */
static bool update_modules(struct symbolizer *s)
{
	struct maps_view v;
	size_t nunknown = 0;

	if (!read_maps(s, &v))
		return false;
	struct sym_module *fresh = v.mods;
	size_t nfresh = v.nmods;

	for (size_t i = 0; i < nfresh; i++) {
		const struct sym_module *old = find_module(s, fresh[i].start);

		if (old && same_object(old, &fresh[i])) {
			fresh[i].dm = old->dm; /* also remembers failures */
			fresh[i].bias = old->bias;
			fresh[i].obj = old->obj;
			fresh[i].tried = true;
		} else {
			nunknown++;
		}
	}
	if (!nunknown) {
		free(v.mods);
		free(v.ranges);
		return true;
	}
	size_t first_new = s->nobjs;

	dwfl_report_begin_add(s->dwfl);
	for (size_t i = 0; i < nfresh; i++) {
		if (!fresh[i].tried)
			report_object(s, &fresh[i]);
		fresh[i].tried = true;
	}
	dwfl_report_end(s->dwfl, NULL, NULL);
	for (size_t i = first_new; i < s->nobjs; i++)
		load_eagerly(s->objs[i].dm);

	/* Keep unmapped modules nothing else took the place of: frames
	 * captured before a dlclose() still name them. */
	if (ARRAY_RESERVE(v.mods, v.capmods, v.nmods + s->nmods)) {
		free(v.mods);
		free(v.ranges);
		return true;
	}
	for (size_t i = 0; i < s->nmods; i++)
		if (!overlaps_any(v.ranges, v.nranges, s->mods[i].start, s->mods[i].end))
			v.mods[v.nmods++] = s->mods[i];
	qsort(v.mods, v.nmods, sizeof(*v.mods), cmp_module);
	free(s->mods);
	free(v.ranges);
	s->mods = v.mods;
	s->nmods = v.nmods;
	/* Cached misses may now resolve. */
	frame_cache_clear(&s->cache);
	return true;
}

static int find_elf_unused(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
			   char **file_name, Elf **elfp)
{
	/* Every module is reported with its ELF already open (opened through
	 * the target's view by open_object()); never fall back to a bare path
	 * from the tracer's mount namespace. */
	(void)mod;
	(void)userdata;
	(void)modname;
	(void)base;
	(void)file_name;
	(void)elfp;
	return -1;
}

/* True when the target has a different root than us (container, chroot). */
static bool foreign_root(int procfd)
{
	struct stat ours, theirs;

	if (stat("/", &ours) || fstatat(procfd, "root/", &theirs, 0))
		return false;
	return ours.st_dev != theirs.st_dev || ours.st_ino != theirs.st_ino;
}

struct symbolizer *symbolizer_new(pid_t pid, char *err, size_t errlen)
{
	struct symbolizer *s = calloc(1, sizeof(*s));
	char dir[32];

	if (!s) {
		set_err(err, errlen, "%s", "out of memory");
		return NULL;
	}
	s->pid = pid;
	snprintf(dir, sizeof(dir), "/proc/%d", (int)pid);
	s->procfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (s->procfd < 0) {
		set_err(err, errlen, "cannot open %s", dir);
		free(s);
		return NULL;
	}
	/* Debug files: next to the object, in /usr/lib/debug (by build ID or
	 * path), and in the target's own /usr/lib/debug when its root differs. */
	int n =
	    foreign_root(s->procfd)
		? asprintf(&s->debuginfo_path, ":.debug:/usr/lib/debug:%s/root/usr/lib/debug", dir)
		: asprintf(&s->debuginfo_path, ":.debug:/usr/lib/debug");

	if (n < 0) {
		s->debuginfo_path = NULL;
		goto fail_oom;
	}
	s->cb.find_elf = find_elf_unused;
	s->cb.find_debuginfo = dwfl_standard_find_debuginfo;
	s->cb.debuginfo_path = &s->debuginfo_path;
	elf_version(EV_CURRENT);
	s->dwfl = dwfl_begin(&s->cb);
	s->inlines = inline_index_new();
	if (!s->dwfl)
		goto fail_oom;
	if (!update_modules(s) || !s->nmods) {
		set_err(err, errlen, "no executable mappings readable in %s/maps", dir);
		symbolizer_free(s);
		return NULL;
	}
	return s;
fail_oom:
	set_err(err, errlen, "%s", "out of memory");
	symbolizer_free(s);
	return NULL;
}

void symbolizer_refresh(struct symbolizer *s)
{
	if (s)
		update_modules(s); /* maps unreadable once the target is gone */
}

/* glibc exports malloc as an alias of __libc_malloc (and cfree of free):
 * users know the public name, so fewer leading underscores win, then
 * global over weak over local. */
static unsigned alias_rank(const char *name, const GElf_Sym *sym)
{
	unsigned n = 0, bind = GELF_ST_BIND(sym->st_info);

	while (name[n] == '_')
		n++;
	return n * 4 + (bind == STB_GLOBAL ? 0 : bind == STB_WEAK ? 1 : 2);
}

static int cmp_func(const void *a, const void *b)
{
	const struct sym_func *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return (x->rank > y->rank) - (x->rank < y->rank);
}

static void build_funcs(struct sym_object *o)
{
	int n = dwfl_module_getsymtab(o->dm);

	o->funcs_built = true;
	if (n <= 0 || !(o->funcs = malloc((size_t)n * sizeof(*o->funcs))))
		return;
	size_t k = 0;

	for (int i = 0; i < n; i++) {
		GElf_Sym sym;
		GElf_Addr addr;
		GElf_Word shndx;
		Elf *elf;
		Dwarf_Addr bias;
		const char *name =
		    dwfl_module_getsym_info(o->dm, i, &sym, &addr, &shndx, &elf, &bias);
		int type = GELF_ST_TYPE(sym.st_info);
		uint64_t size = sym.st_size;

		if (!name || !*name || shndx == SHN_UNDEF || !addr)
			continue;
		if (type != STT_FUNC && type != STT_GNU_IFUNC && (type != STT_NOTYPE || !size))
			continue;
		/* Sizeless (asm, _init, _fini): extends to the end of its section
		 * at most, and below to the next function. */
		if (!size) {
			Elf_Scn *scn = shndx < SHN_LORESERVE ? elf_getscn(elf, shndx) : NULL;
			GElf_Shdr sh;

			if (!scn || !gelf_getshdr(scn, &sh) ||
			    addr >= sh.sh_addr + sh.sh_size + bias)
				continue;
			size = sh.sh_addr + sh.sh_size + bias - addr;
		}
		o->funcs[k++] =
		    (struct sym_func){addr, size, !sym.st_size, name, alias_rank(name, &sym)};
	}
	qsort(o->funcs, k, sizeof(*o->funcs), cmp_func);
	size_t u = 0;

	for (size_t i = 0; i < k; i++) {
		struct sym_func *prev = u ? &o->funcs[u - 1] : NULL;

		if (prev && prev->addr == o->funcs[i].addr) {
			/* a real size beats an inferred one */
			if (!o->funcs[i].sizeless &&
			    (prev->sizeless || o->funcs[i].size > prev->size)) {
				prev->size = o->funcs[i].size;
				prev->sizeless = false;
			}
			continue;
		}
		if (prev && prev->sizeless && prev->addr + prev->size > o->funcs[i].addr)
			prev->size = o->funcs[i].addr - prev->addr;
		o->funcs[u++] = o->funcs[i];
	}
	o->nfuncs = u;
}

static const char *function_name(struct symbolizer *s, size_t obj, uint64_t pc)
{
	struct sym_object *o = &s->objs[obj];
	if (!o->funcs_built)
		build_funcs(o);
	size_t lo = SORTED_UPPER(o->funcs, o->nfuncs, .addr, pc);

	if (!lo)
		return NULL;
	const struct sym_func *f = &o->funcs[lo - 1];

	return pc < f->addr + f->size ? f->name : NULL;
}

static uint64_t module_offset(const struct sym_module *m, uint64_t addr)
{
	/* With the ELF: its virtual address (what addr2line -e takes).
	 * Without: the file offset. Same for ordinary shared objects. */
	return m->dm ? addr - m->bias : addr - m->start + m->map_off;
}

/* The interner's copy of a frame's function or file, or NULL (counted)
 * past the names' bound, until symbolizer_trim starts them over. */
static const char *keep_name(struct symbolizer *s, const char *text)
{
	if (!text)
		return NULL;
	if (interner_bytes(&s->names) >= NAME_BYTES) {
		s->names_unkept++;
		return NULL;
	}
	return interner_str(&s->names, text);
}

/* The readable form of a symbol name, interned. */
static const char *shown_name(struct symbolizer *s, const char *raw)
{
	char buf[RM_FUNCTION_MAX];

	return raw ? keep_name(s, demangle_name(raw, buf, sizeof(buf))) : NULL;
}

/*
 * addr's frames into out[0..INLINE_MAX], root first: the function that
 * contains it (named by the symbol table, which names every function the
 * same way whether or not it has DWARF), then the functions inlined there,
 * innermost last. Each frame's file:line is where it calls the next one;
 * the innermost's comes from the line table. Returns how many.
 */
static unsigned resolve(struct symbolizer *s, uint64_t addr, bool is_return, struct rm_frame *out)
{
	struct rm_frame base = {.address = addr, .kind = RM_FRAME_NATIVE};
	const struct sym_module *m = find_module(s, addr);

	if (m) {
		base.module = m->path;
		base.offset = module_offset(m, addr);
	}
	out[0] = base;
	if (!m || !m->dm)
		return 1;
	/* A return address points after the call, maybe already into the next
	 * function or line: look up the call instruction. */
	uint64_t pc = is_return && addr ? addr - 1 : addr;
	struct inline_scope scopes[INLINE_MAX], inner = {0};
	const char *outer = NULL, *fn;
	Dwfl_Line *l = dwfl_module_getsrc(m->dm, pc);
	unsigned n;

	if (l)
		inner.call_file = dwfl_lineinfo(l, NULL, &inner.call_line, NULL, NULL, NULL);
	n = inline_scopes(s->inlines, m->dm, pc, scopes, INLINE_MAX, &inner, &outer);
	fn = function_name(s, m->obj, pc);
	out[0].function = shown_name(s, fn ? fn : outer);
	for (unsigned i = 0; i <= n; i++) {
		const struct inline_scope *at = i < n ? &scopes[n - 1 - i] : &inner;

		if (i) {
			out[i] = base;
			out[i].function = shown_name(s, scopes[n - i].name);
			out[i].inlined = true;
		}
		out[i].file = keep_name(s, at->call_file);
		out[i].line = out[i].file ? at->call_line : 0;
	}
	return n + 1;
}

/* addr's frames, cached per address; *n gets how many. Valid until the
 * next lookup. */
static const struct rm_frame *lookup(struct symbolizer *s, uint64_t addr, bool is_return,
				     unsigned *n)
{
	uint8_t variant = is_return ? 1 : 0;
	const struct rm_frame *hit = frame_cache_get(&s->cache, addr, variant, n);

	if (hit)
		return hit;
	*n = resolve(s, addr, is_return, s->scratch);
	frame_cache_put(&s->cache, addr, variant, s->scratch, *n);
	return s->scratch;
}

unsigned symbolizer_frame_count(struct symbolizer *s, uint64_t addr, bool is_return)
{
	unsigned n = 1;

	if (s)
		lookup(s, addr, is_return, &n);
	return n;
}

unsigned symbolizer_frames(struct symbolizer *s, uint64_t addr, bool is_return,
			   struct rm_frame *out, unsigned max)
{
	static const struct rm_frame unknown = {.kind = RM_FRAME_NATIVE};
	const struct rm_frame *f = &unknown;
	unsigned n = 1;

	if (!max)
		return 0;
	if (s)
		f = lookup(s, addr, is_return, &n);
	if (n > max)
		n = max;
	memcpy(out, f, n * sizeof(*out));
	if (!s)
		out[0].address = addr;
	return n;
}

const char *symbolizer_module_of(struct symbolizer *s, uint64_t addr)
{
	const struct sym_module *m = s ? find_module(s, addr) : NULL;

	return m ? m->path : NULL;
}

void symbolizer_free(struct symbolizer *s)
{
	if (!s)
		return;
	if (s->dwfl)
		dwfl_end(s->dwfl);
	if (s->procfd >= 0)
		close(s->procfd);
	free(s->debuginfo_path);
	free(s->mods);
	for (size_t i = 0; i < s->nobjs; i++)
		free(s->objs[i].funcs);
	free(s->objs);
	frame_cache_free(&s->cache);
	inline_index_free(s->inlines);
	interner_clear(&s->paths);
	interner_clear(&s->names);
	free(s);
}

void symbolizer_trim(struct symbolizer *s)
{
	if (!s || interner_bytes(&s->names) < NAME_BYTES / 2)
		return;
	/* the frame cache is all that points into the names between reports */
	frame_cache_clear(&s->cache);
	interner_clear(&s->names);
	s->restarts++;
}

void symbolizer_bounds(const struct symbolizer *s, uint64_t *names_unkept, uint64_t *restarts)
{
	*names_unkept = s ? s->names_unkept : 0;
	*restarts = s ? s->restarts + s->cache.restarts + inline_index_restarts(s->inlines) : 0;
}
