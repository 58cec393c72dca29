// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Folded stacks ("root;...;leaf BYTES") for flamegraph.pl and friends. One
 * line per stack whatever the names hold: frames are escaped as the table
 * escapes them (util/escape.h: control characters, invalid UTF-8 and '\\'
 * as \xHH or \\), and ';' inside a frame is written \x3b, so it never
 * splits one.
 */
#include <inttypes.h>
#include "out/formats.h"
#include "util/escape.h"
#include "util/outfile.h"

int folded_write(const struct rm_report *r, FILE *out)
{
	char fb[1024];
	for (size_t i = 0; i < r->nstacks; i++) {
		const struct rm_stack *s = &r->stacks[i];
		if (!s->out_bytes)
			continue;
		for (unsigned k = 0; k < s->nframes; k++) {
			if (k)
				fputc(';', out);
			escape_put(out, rm_frame_format(&s->frames[k], fb, sizeof(fb)), ";");
		}
		if (!s->nframes)
			fputs("[unknown]", out);
		fprintf(out, " %" PRIu64 "\n", s->out_bytes);
	}
	return stream_finish(out);
}
