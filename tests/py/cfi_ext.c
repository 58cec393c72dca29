// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A C extension built without frame pointers (test_native_cfi.py compiles
 * it for Debian's python3.11): leak(n) keeps n bytes from malloc through
 * two more functions of the extension, whose frames must all show below
 * the Python frames that called it.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdlib.h>

#define STEP __attribute__((noinline, noipa))

static void *kept[1024];
static size_t nkept;

STEP static void *ext_alloc(size_t n)
{
	void *p = malloc(n);
	__asm__ volatile("" : : "r"(p) : "memory");
	return p;
}

STEP static void *ext_work(size_t n)
{
	void *p = ext_alloc(n);
	__asm__ volatile("" : : "r"(p) : "memory");
	return p;
}

STEP static PyObject *ext_leak(PyObject *self, PyObject *args)
{
	Py_ssize_t n;
	(void)self;
	if (!PyArg_ParseTuple(args, "n", &n))
		return NULL;
	void *p = ext_work((size_t)n);
	if (nkept < sizeof(kept) / sizeof(kept[0]))
		kept[nkept++] = p;
	Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"leak", ext_leak, METH_VARARGS, "keep n bytes from malloc"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "cfi_ext", NULL, -1, methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit_cfi_ext(void)
{
	return PyModule_Create(&module);
}
