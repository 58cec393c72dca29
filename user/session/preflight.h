/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Checks done before touching BPF: privileges and kernel features. */
#ifndef PREFLIGHT_H
#define PREFLIGHT_H

#include <stddef.h>

/* 0 when leakbpf can run here, else -1 with a one-line reason. */
int preflight_check(char *err, size_t errlen);

#endif
