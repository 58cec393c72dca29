/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The userspace view of bpf/python.bpf.h: struct lb_py_cfg and lb_py_tag. */
#ifndef PY_BPF_H
#define PY_BPF_H

#include <stdint.h>
#include <linux/types.h>
#include "leakbpf.h"
#define LB_PY_CFG_ONLY
#include "python.bpf.h"
#undef LB_PY_CFG_ONLY

#endif
