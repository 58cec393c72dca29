/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* A tracing session from attach to final report. */
#ifndef TRACE_H
#define TRACE_H

#include "session/options.h"

/* Returns the process exit status. */
int trace_run(const struct options *o);

#endif
