// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * C++ new / new[] / delete: libstdc++'s operator new calls malloc, so the
 * leaks must be attributed to the functions below (not only to operator new).
 * Usage: leak_cxx [--now] [--exit N]   (protocol: harness.h)
 */
#include <cstdint>
#include <new>
#include "harness.h"

struct Node {
	std::uint64_t a[6]; /* 48 bytes, trivially destructible */
};

struct Tracked {
	std::uint64_t a[3]; /* 24 bytes, with a destructor: new[] adds a cookie */
	~Tracked()
	{
		lt_keep(this);
	}
};

enum {
	NEW_N = 3,
	ARR_N = 2,
	ARR_LEN = 1000,
	OBJARR_LEN = 10,
	/* Itanium C++ ABI: new T[n] with a non-trivial destructor stores n in an
	 * 8-byte cookie before the elements. */
	OBJARR_BYTES = OBJARR_LEN * sizeof(Tracked) + sizeof(std::size_t),
	NOTHROW_SZ = 77,
};

extern "C" {

void leak_new(const struct lt *lt)
{
	for (int i = 0; i < NEW_N; i++)
		lt_keep(new Node());
	lt_leak(lt, __func__, NEW_N, NEW_N * sizeof(Node));
}

void leak_new_array(const struct lt *lt)
{
	for (int i = 0; i < ARR_N; i++)
		lt_keep(new char[ARR_LEN]);
	lt_leak(lt, __func__, ARR_N, ARR_N * ARR_LEN);
}

void leak_new_object_array(const struct lt *lt)
{
	lt_keep(new Tracked[OBJARR_LEN]);
	lt_leak(lt, __func__, 1, OBJARR_BYTES);
}

void leak_new_nothrow(const struct lt *lt)
{
	lt_keep(new (std::nothrow) char[NOTHROW_SZ]);
	lt_leak(lt, __func__, 1, NOTHROW_SZ);
}

void clean_new(const struct lt *lt)
{
	for (int i = 0; i < NEW_N; i++)
		delete new Node();
	delete[] new char[ARR_LEN];
	delete[] new Tracked[OBJARR_LEN];
	delete[] new (std::nothrow) char[NOTHROW_SZ];
	lt_clean(lt, __func__);
}
}

int main(int argc, char **argv)
{
	struct lt lt;

	lt_init(&lt, argc, argv);
	lt_ready(&lt);
	lt_wait_go(&lt);
	leak_new(&lt);
	leak_new_array(&lt);
	leak_new_object_array(&lt);
	leak_new_nothrow(&lt);
	clean_new(&lt);
	lt_done(&lt);
	return lt_end(&lt);
}
