// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Folded stacks ("root;...;leaf BYTES") for flamegraph.pl and friends. */
#include <inttypes.h>
#include "out/formats.h"

int folded_write(const struct rm_report *r, FILE *out)
{
	char fb[1024];
	for (size_t i = 0; i < r->nstacks; i++) {
		const struct rm_stack *s = &r->stacks[i];
		if (!s->out_bytes)
			continue;
		for (unsigned k = 0; k < s->nframes; k++) {
			const char *t = rm_frame_format(&s->frames[k], fb, sizeof(fb));
			if (k)
				fputc(';', out);
			/* ';' separates frames: keep it out of frame names */
			for (; *t; t++)
				fputc(*t == ';' ? ':' : *t, out);
		}
		if (!s->nframes)
			fputs("[unknown]", out);
		fprintf(out, " %" PRIu64 "\n", s->out_bytes);
	}
	return ferror(out) ? -1 : 0;
}
