/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The generated BPF skeleton, with the types its .rodata refers to. */
#ifndef SKEL_H
#define SKEL_H

#include <linux/types.h>
#include "settings.h"
#include "leakbpf.skel.h"

#endif
