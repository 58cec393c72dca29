// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* CPython support: the python.h hooks, tying detection (py_detect), the BPF
 * frame walk configuration, frame resolution (py_code) and the object
 * allocator probes (py_alloc) together. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "target/elf_file.h"
#include "settings.h"
#include "python/alloc_probes.h"
#include "python/code.h"
#include "python/code_watch.h"
#include "python/detect.h"
#include "python/support.h"
#include "account/aggregate.h"
#include "target/process.h"

struct py_support {
	pid_t pid;
	struct py_build b;
	struct py_code_cache codes;
	uint64_t trimmed_at; /* agg->stacks_released when names were last trimmed */
	struct py_alloc_target alloc;
	const char *alloc_note;
	char describe[PATH_MAX + 64];
};

struct py_support *py_open(const struct lb_target *t, const char **warning)
{
	char warn[PATH_MAX + 256];
	*warning = NULL;
	struct py_support *py = calloc(1, sizeof(*py));
	if (!py)
		return NULL;
	enum py_detect_result r = py_detect(t, &py->b, warn, sizeof(warn));
	if (r != PY_DETECT_OK) {
		/* The warning outlives the (absent) py_support: owned by nobody. */
		if (r == PY_DETECT_UNSUPPORTED)
			*warning = strdup(warn);
		free(py);
		return NULL;
	}
	py->pid = t->pid;
	if (py_code_cache_init(&py->codes, t->pid, &py->b.layout)) {
		elf_file_close(py->b.elf);
		free(py);
		return NULL;
	}
	py->alloc = (struct py_alloc_target){
	    .pid = t->pid,
	    .path = py->b.path,
	    .module_label = py->b.label,
	    .elf = py->b.elf,
	    .major = py->b.major,
	    .minor = py->b.minor,
	    .shared = py->b.shared,
	};
	char ver[32];
	if (py->b.micro_known)
		snprintf(ver, sizeof(ver), "%d.%d.%d", py->b.major, py->b.minor, py->b.micro);
	else
		snprintf(ver, sizeof(ver), "%d.%d", py->b.major, py->b.minor);
	snprintf(py->describe, sizeof(py->describe), "CPython %s (%s, %s)", ver, py->b.label,
		 py->b.shared ? "shared" : "static");
	return py;
}

/* Window start (8-aligned) for fields at the given offsets. */
static uint16_t window(const uint16_t *offs, size_t n)
{
	uint16_t lo = PY_NONE;
	for (size_t i = 0; i < n; i++)
		if (offs[i] != PY_NONE && offs[i] < lo)
			lo = offs[i];
	return lo & ~7;
}

static uint16_t rel(uint16_t off, uint16_t base)
{
	return off == PY_NONE ? LB_PY_NONE : (uint16_t)(off - base);
}

/* The BPF view of the layout. Returns -1 if a field falls outside the
 * windows BPF reads (a layout table error). */
static int fill_cfg(const struct py_build *b, struct lb_py_cfg *c)
{
	const struct py_layout *l = &b->layout;
	uint16_t fr[] = {l->fr_prev, l->fr_code, l->fr_instr, l->fr_owner};
	uint16_t co[] = {l->co_firstlineno, l->co_name, l->co_filename, l->co_version};
	uint16_t fw = window(fr, 4), cw = window(co, 4);
	memset(c, 0, sizeof(*c));
	c->runtime = b->runtime;
	c->rt_interp_head = l->rt_interp_head;
	c->interp_next = l->interp_next;
	c->interp_threads = l->interp_threads;
	c->ts_next = l->ts_next;
	c->ts_thread_id = l->ts_thread_id;
	c->ts_frame = l->ts_frame;
	c->cframe_frame = l->cframe_frame == PY_NONE ? LB_PY_NONE : l->cframe_frame;
	c->fr_win = fw;
	c->fr_prev = rel(l->fr_prev, fw);
	c->fr_code = rel(l->fr_code, fw);
	c->fr_instr = rel(l->fr_instr, fw);
	c->fr_owner = rel(l->fr_owner, fw);
	c->co_win = cw;
	c->co_firstlineno = rel(l->co_firstlineno, cw);
	c->co_name = rel(l->co_name, cw);
	c->co_filename = rel(l->co_filename, cw);
	c->co_code = l->co_code_adaptive == PY_NONE ? 0 : l->co_code_adaptive;
	c->co_version = rel(l->co_version, cw);
	c->str_hash = l->str_hash;
	c->str_state_w = (uint8_t)((l->str_state - l->str_length) / 8);
	c->str_data_w = (uint8_t)((l->str_ascii_data - l->str_length) / 8);
	c->frame_kind = l->frame_kind == PY_FRAME_INTERP ? LB_PY_FRAME_INTERP : LB_PY_FRAME_OBJECT;
	c->lasti_shift = l->lasti_shift;
	c->owner_cstack = l->owner_cstack;
	uint16_t last[] = {c->fr_prev,	      c->fr_code, c->fr_instr,
			   c->co_firstlineno, c->co_name, c->co_filename};
	for (size_t i = 0; i < sizeof(last) / sizeof(last[0]); i++)
		if (last[i] == LB_PY_NONE || last[i] + 8 > LB_PY_WIN)
			return -1;
	if ((c->fr_owner != LB_PY_NONE && c->fr_owner >= LB_PY_WIN) ||
	    (c->co_version != LB_PY_NONE && c->co_version + 4 > LB_PY_WIN))
		return -1;
	return 0;
}

int py_bpf_settings(struct py_support *py, struct py_bpf_settings *out)
{
	if (fill_cfg(&py->b, &out->cfg)) {
		fprintf(stderr,
			"leakbpf: internal error: CPython %d.%d layout does not fit the "
			"BPF read windows\n",
			py->b.major, py->b.minor);
		return -1;
	}
	out->preheader_flags = py_alloc_preheader_flags(&py->alloc);
	return 0;
}

int py_attach(struct py_support *py, struct leakbpf_bpf *skel, struct probe_set *ps, bool alloc_all,
	      bool *code_watch, char *err, size_t errlen)
{
	py->alloc.all = alloc_all;
	if (code_watch)
		*code_watch = py_codewatch_attach(&py->b, py->pid, skel, ps) == 0;
	return py_alloc_attach(&py->alloc, skel, ps, &py->alloc_note, err, errlen);
}

int py_attach_window(struct py_support *py, struct leakbpf_bpf *skel, struct probe_set *ps,
		     char *err, size_t errlen)
{
	py->alloc.all = true;
	py->alloc.small_objects = false;
	int rc = py_alloc_attach(&py->alloc, skel, ps, &py->alloc_note, err, errlen);
	if (rc == -2) {
		py->alloc.all = false;
		py->alloc.small_objects = true;
		rc = py_alloc_attach(&py->alloc, skel, ps, &py->alloc_note, err, errlen);
	}
	py->alloc.small_objects = false;
	return rc;
}

int py_resolve_frame(struct py_support *py, uint64_t code, uint32_t lasti, uint32_t tag,
		     struct rm_frame *out)
{
	memset(out, 0, sizeof(*out));
	out->kind = RM_FRAME_PYTHON;
	if (py_code_resolve(&py->codes, code, tag, (int32_t)lasti, &out->function, &out->file,
			    &out->line)) {
		out->function = "<unknown python frame>";
		out->file = NULL;
		out->line = 0;
		return -1;
	}
	return 0;
}

/* The names kept may fill their bound with stacks long dropped: start
 * over from the ones still used when that frees some (stacks were dropped
 * since the last time) and the bound is near. */
void py_trim_names(struct py_support *py, struct aggregate *agg)
{
	if (!py || interner_bytes(&py->codes.strings) < PY_CODE_NAME_BYTES / 4 * 3 ||
	    agg->stacks_released == py->trimmed_at)
		return;
	py->trimmed_at = agg->stacks_released;
	struct interner used = {0};
	for (uint32_t id = 0; id < agg->nstacks; id++) {
		struct agg_stack *s = &agg->stacks[id];
		for (unsigned k = 0; s->used && s->pyres && k < s->n_py; k++) {
			struct rm_frame *f = &s->pyres[k];
			const char *fn = f->function ? interner_str(&used, f->function) : NULL;
			const char *file = f->file ? interner_str(&used, f->file) : NULL;
			/* without memory for a copy the frame loses its name, which
			 * is counted */
			if ((f->function && !fn) || (f->file && !file)) {
				py->codes.names_unkept++;
				fn = PY_NAME_UNKEPT;
				file = NULL;
			}
			f->function = fn;
			f->file = file;
		}
	}
	py_code_cache_restart(&py->codes, &used);
}

void py_bounds(const struct py_support *py, uint64_t *names_unkept, uint64_t *tables_unkept)
{
	*names_unkept = py ? py->codes.names_unkept : 0;
	*tables_unkept = py ? py->codes.tables_unkept : 0;
}

bool py_is_interpreter_addr(struct py_support *py, uint64_t addr)
{
	for (size_t i = 0; i < py->b.ntext; i++)
		if (addr >= py->b.text[i][0] && addr < py->b.text[i][1])
			return true;
	return false;
}

const uint64_t (*py_interpreter_text(struct py_support *py, size_t *n))[2]
{
	*n = py ? py->b.ntext : 0;
	return py ? (const uint64_t(*)[2])py->b.text : NULL;
}

const char *py_describe(struct py_support *py)
{
	return py->describe;
}

const char *py_allocator_note(struct py_support *py)
{
	return py->alloc_note;
}

void py_close(struct py_support *py)
{
	if (!py)
		return;
	py_code_cache_free(&py->codes);
	elf_file_close(py->b.elf);
	free(py);
}
