// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The report in speedscope's file format
 * (https://www.speedscope.app/file-format-schema.json): shared frames and
 * two "sampled" profiles over the same stacks, "outstanding bytes" (what
 * leaks) and "allocations" (what churns). One sample per stack, weighted.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "out/formats.h"
#include "util/json.h"
#include "util/intern.h"
#include "util/outfile.h"

/* Key of a frame as speedscope shows it: name, file and line, like
 * py-spy's exports. Unnamed native frames are named "module+0xOFF". */
static long frame_index(struct interner *frames, const struct rm_frame *f)
{
	char key[1024], text[512];
	const char *name = f->function ? f->function : rm_frame_format(f, text, sizeof(text));
	int n;

	/* bounded parts, so the three NUL-separated fields always fit */
	n = snprintf(key, sizeof(key), "%.600s%c%.380s%c%d", name, 0, f->file ? f->file : "", 0,
		     f->line);
	return interner_add(frames, key, n, NULL);
}

/* Frame indices of every stack, root first, flattened; starts[i] is where
 * stack i begins. */
static long *index_stacks(const struct rm_report *r, struct interner *frames, size_t **starts)
{
	size_t total = 0, k = 0;
	long *idx;

	for (size_t i = 0; i < r->nstacks; i++)
		total += r->stacks[i].nframes;
	idx = malloc((total + 1) * sizeof(*idx));
	*starts = malloc((r->nstacks + 1) * sizeof(**starts));
	if (!idx || !*starts)
		goto fail;
	for (size_t i = 0; i < r->nstacks; i++) {
		(*starts)[i] = k;
		for (unsigned j = 0; j < r->stacks[i].nframes; j++) {
			idx[k] = frame_index(frames, &r->stacks[i].frames[j]);
			if (idx[k++] < 0)
				goto fail;
		}
	}
	(*starts)[r->nstacks] = k;
	return idx;
fail:
	free(idx);
	free(*starts);
	*starts = NULL;
	errno = ENOMEM;
	return NULL;
}

static void write_frames(const struct interner *frames, FILE *out)
{
	fputs("\"shared\":{\"frames\":[", out);
	for (size_t i = 0; i < interner_count(frames); i++) {
		const char *name = interner_key(frames, i, NULL);
		const char *file = name + strlen(name) + 1;
		int line = atoi(file + strlen(file) + 1);

		fputs(i ? ",\n{\"name\":" : "\n{\"name\":", out);
		json_put_string(out, name);
		if (*file) {
			fputs(",\"file\":", out);
			json_put_string(out, file);
		}
		if (line > 0)
			fprintf(out, ",\"line\":%d", line);
		putc('}', out);
	}
	fputs("]},\n", out);
}

/* One sampled profile; `bytes` picks outstanding bytes, else alloc count. */
static void write_profile(const struct rm_report *r, const long *idx, const size_t *starts,
			  bool bytes, FILE *out)
{
	uint64_t total = 0;
	bool first = true;

	for (size_t i = 0; i < r->nstacks; i++)
		total += bytes ? r->stacks[i].out_bytes : r->stacks[i].alloc_count;
	fprintf(out,
		"{\"type\":\"sampled\",\"name\":\"%s\",\"unit\":\"%s\",\"startValue\":0,"
		"\"endValue\":%" PRIu64 ",\n\"samples\":[",
		bytes ? "outstanding bytes" : "allocations", bytes ? "bytes" : "none", total);
	for (size_t i = 0; i < r->nstacks; i++) {
		uint64_t w = bytes ? r->stacks[i].out_bytes : r->stacks[i].alloc_count;

		if (!w)
			continue;
		fputs(first ? "\n[" : ",\n[", out);
		for (size_t k = starts[i]; k < starts[i + 1]; k++)
			fprintf(out, k > starts[i] ? ",%ld" : "%ld", idx[k]);
		putc(']', out);
		first = false;
	}
	fputs("],\n\"weights\":[", out);
	first = true;
	for (size_t i = 0; i < r->nstacks; i++) {
		uint64_t w = bytes ? r->stacks[i].out_bytes : r->stacks[i].alloc_count;

		if (!w)
			continue;
		fprintf(out, first ? "%" PRIu64 : ",%" PRIu64, w);
		first = false;
	}
	fputs("]}", out);
}

int speedscope_write(const struct rm_report *r, FILE *out)
{
	struct interner *frames = interner_new();
	size_t *starts = NULL;
	long *idx = NULL;
	char name[256];
	int rc = -1;

	if (!frames) {
		errno = ENOMEM;
		return -1;
	}
	idx = index_stacks(r, frames, &starts);
	if (!idx)
		goto out;
	snprintf(name, sizeof(name), "leakbpf: pid %d (%s)", r->pid, r->comm ? r->comm : "?");
	fputs("{\"$schema\":\"https://www.speedscope.app/file-format-schema.json\",\n", out);
	fputs("\"name\":", out);
	json_put_string(out, name);
	fputs(",\"exporter\":", out);
	snprintf(name, sizeof(name), "leakbpf %s", r->leakbpf_version ? r->leakbpf_version : "");
	json_put_string(out, name);
	fputs(",\"activeProfileIndex\":0,\n", out);
	write_frames(frames, out);
	fputs("\"profiles\":[\n", out);
	write_profile(r, idx, starts, true, out);
	fputs(",\n", out);
	write_profile(r, idx, starts, false, out);
	fputs("\n]}\n", out);
	rc = stream_finish(out);
out:
	free(idx);
	free(starts);
	interner_free(frames);
	return rc;
}
