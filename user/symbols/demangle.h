/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Symbol names as people read them: C++ names demangled, every name bounded. */
#ifndef SYMBOLS_DEMANGLE_H
#define SYMBOLS_DEMANGLE_H

#include <stddef.h>

/* The readable form of symbol name `raw` in buf: demangled when raw is a
 * mangled C++ name (`_Z...`), else raw itself, without a symbol version
 * (`@@GLIBC_2.34`). At most len - 1 bytes: a
 * crafted mangled name can demangle to gigabytes (substitutions nest), so
 * the demangler is stopped there; a cut name ends in "..." (len >= 4). Returns buf. Reentrant, no
 * heap allocation. The text comes from the target: escape it on output. */
const char *demangle_name(const char *raw, char *buf, size_t len);

#endif
