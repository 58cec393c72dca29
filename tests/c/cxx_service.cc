// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A C++ service that keeps a `new Session` per request in a std::map and
 * never closes them, built with g++ -O2 -g (tests/Makefile: once with frame
 * pointers, once without). The STL code between the service's functions and
 * operator new is inlined at -O2, so the stacks only name it through DWARF's
 * inlined subroutines: open_session(int) < handle(int) < main, with
 * Session::Session and std::vector<int>::vector (and friends) inlined in
 * open_session, std::map<int, Session*>::operator[] inlined in handle.
 * handle_and_close(int) frees all it allocates.
 * Usage: cxx_service [--now] [--exit N] [REQUESTS]   (protocol: harness.h)
 */
#include <cstdlib>
#include <map>
#include <vector>
#include "harness.h"

enum {
	REQUESTS = 40,
	SESSION_INTS = 25, /* the session's buffer: 100 bytes */
	CLOSED = 7,	   /* requests whose session is closed again */
};

struct Session {
	int id;
	std::vector<int> buf;
	explicit Session(int id_) : id(id_), buf(SESSION_INTS)
	{
	}
};

/* Never destroyed: the nodes stay outstanding until exit, as in a service
 * that forgets to close sessions. */
static std::map<int, Session *> *sessions;

__attribute__((noinline)) Session *open_session(int id)
{
	return new Session(id);
}

__attribute__((noinline)) void handle(int request)
{
	(*sessions)[request] = open_session(request);
}

__attribute__((noinline)) void handle_and_close(int request)
{
	int key = -1 - request; /* keys of open sessions are >= 0 */

	(*sessions)[key] = open_session(key);
	delete (*sessions)[key];
	sessions->erase(key);
}

int main(int argc, char **argv)
{
	struct lt lt;
	int n = REQUESTS;

	lt_init(&lt, argc, argv);
	if (lt.argc > 0)
		n = std::atoi(lt.argv[0]);
	sessions = new std::map<int, Session *>;
	lt_ready(&lt);
	lt_wait_go(&lt);
	for (int i = 0; i < n; i++)
		handle(i);
	for (int i = 0; i < CLOSED; i++)
		handle_and_close(i);
	/* A map node (libstdc++: 32-byte header + the pair) per request, and a
	 * Session plus its buffer per request, below open_session. */
	std::size_t node = 32 + sizeof(std::pair<const int, Session *>);
	std::size_t session = sizeof(Session) + SESSION_INTS * sizeof(int);

	lt_leak(&lt, "open_session", 2 * (std::size_t)n, n * session);
	lt_leak(&lt, "handle", 3 * (std::size_t)n, n * (session + node));
	lt_clean(&lt, "handle_and_close");
	lt_done(&lt);
	return lt_end(&lt);
}
