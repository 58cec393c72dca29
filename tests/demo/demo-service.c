// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The leakbpf demo: a small request-processing "service". Each request is
 * parsed into heap strings, looked up in a bounded session cache (entries live
 * long but are evicted), answered with a response buffer grown by realloc,
 * and counted in a metrics table keyed by a label string. All of that is
 * freed or bounded, except for one bug: when the metrics label already
 * exists, metrics_record() forgets to free the label it just formatted.
 * Requests come from an internal generator, so no network is needed.
 * Usage: demo-service [REQUESTS_PER_SECOND]
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum {
	CACHE_SLOTS = 256,
	METRIC_BUCKETS = 64,
	MAX_RUNTIME_S = 600, /* never outlive a forgotten demo */
};

struct request {
	char *method;
	char *path;
	char *user;
	char *body;
	size_t body_len;
};

struct session {
	char *user;
	char *token;
	unsigned long hits;
	unsigned long last_used;
};

struct metric {
	char *label;
	unsigned long count;
	struct metric *next;
};

struct service {
	struct session *cache[CACHE_SLOTS];
	struct metric *metrics[METRIC_BUCKETS];
	unsigned long served;
	unsigned long rng;
};

static unsigned long next_rand(struct service *s)
{
	s->rng = s->rng * 6364136223846793005UL + 1442695040888963407UL;
	return s->rng >> 33;
}

/* The service's own string helpers (like many code bases have). */
static char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *out = malloc(n);

	if (!out)
		abort();
	return memcpy(out, s, n);
}

static char *dup_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *dup_printf(const char *fmt, ...)
{
	va_list ap;
	char *out;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !(out = malloc((size_t)n + 1)))
		abort();
	va_start(ap, fmt);
	vsnprintf(out, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return out;
}

static struct request *parse_request(struct service *s)
{
	static const char *const methods[] = {"GET", "GET", "GET", "POST", "PUT"};
	static const char *const paths[] = {"/", "/api/items", "/api/orders", "/login",
					    "/static/app.js"};
	struct request *r = calloc(1, sizeof(*r));

	r->method = xstrdup(methods[next_rand(s) % 5]);
	r->path = xstrdup(paths[next_rand(s) % 5]);
	r->user = dup_printf("user%03lu", next_rand(s) % 400);
	r->body_len = 64 + next_rand(s) % 1024;
	r->body = malloc(r->body_len);
	memset(r->body, 'b', r->body_len);
	return r;
}

static void free_request(struct request *r)
{
	free(r->method);
	free(r->path);
	free(r->user);
	free(r->body);
	free(r);
}

/* Bounded cache: a user hashes to one slot; a different user evicts it. */
static struct session *session_lookup(struct service *s, const char *user)
{
	unsigned long h = 5381;
	struct session **slot;

	for (const char *c = user; *c; c++)
		h = h * 33 + (unsigned char)*c;
	slot = &s->cache[h % CACHE_SLOTS];
	if (*slot && strcmp((*slot)->user, user) != 0) {
		free((*slot)->user);
		free((*slot)->token);
		free(*slot);
		*slot = NULL;
	}
	if (!*slot) {
		*slot = calloc(1, sizeof(**slot));
		(*slot)->user = xstrdup(user);
		(*slot)->token = dup_printf("tok-%016lx", next_rand(s));
	}
	(*slot)->hits++;
	(*slot)->last_used = s->served;
	return *slot;
}

static char *render_response(struct service *s, const struct request *r, const struct session *se,
			     size_t *len)
{
	size_t cap = 128, used = 0;
	char *buf = malloc(cap);
	unsigned long items = next_rand(s) % 40;

	used += (size_t)snprintf(buf, cap, "HTTP/1.1 200 OK\r\n\r\n");
	for (unsigned long i = 0; i < items; i++) {
		char line[160];
		int n =
		    snprintf(line, sizeof(line), "{\"user\":\"%s\",\"path\":\"%s\",\"item\":%lu}\n",
			     se->user, r->path, i);

		while (used + (size_t)n + 1 > cap) {
			cap *= 2;
			buf = realloc(buf, cap);
		}
		memcpy(buf + used, line, (size_t)n + 1);
		used += (size_t)n;
	}
	*len = used;
	return buf;
}

/* Prometheus-style series name, e.g. http_requests_total{method="GET",path="/"}. */
static char *format_label(const struct request *r)
{
	return dup_printf("http_requests_total{method=\"%s\",path=\"%s\",code=\"200\"}", r->method,
			  r->path);
}

static void metrics_record(struct service *s, const struct request *r)
{
	char *label = format_label(r);
	unsigned long h = 0;
	struct metric *m;

	for (const char *c = label; *c; c++)
		h = h * 31 + (unsigned char)*c;
	for (m = s->metrics[h % METRIC_BUCKETS]; m; m = m->next) {
		if (strcmp(m->label, label) == 0) {
			m->count++;
			return; /* BUG: label is leaked on every hit */
		}
	}
	m = calloc(1, sizeof(*m));
	m->label = label;
	m->count = 1;
	m->next = s->metrics[h % METRIC_BUCKETS];
	s->metrics[h % METRIC_BUCKETS] = m;
}

static void handle_request(struct service *s)
{
	struct request *r = parse_request(s);
	struct session *se = session_lookup(s, r->user);
	size_t len;
	char *resp = render_response(s, r, se, &len);

	metrics_record(s, r);
	free(resp); /* "sent" */
	free_request(r);
	s->served++;
}

static void serve_forever(struct service *s, long per_second)
{
	struct timespec tick = {0, 1000L * 1000 * 1000 / per_second};
	time_t start = time(NULL);

	while (time(NULL) - start < MAX_RUNTIME_S) {
		handle_request(s);
		nanosleep(&tick, NULL);
	}
}

int main(int argc, char **argv)
{
	static struct service s;
	long rate = argc > 1 ? atol(argv[1]) : 500;

	if (rate <= 0 || rate > 100000)
		rate = 500;
	s.rng = (unsigned long)getpid();
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("demo-service: pid %d ready, serving ~%ld requests/s\n", (int)getpid(), rate);
	serve_forever(&s, rate);
	return 0;
}
