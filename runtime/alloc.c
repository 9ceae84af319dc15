// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The runtime's memory (alloc.h): jemalloc's own API when the program has
 * jemalloc, else the C library's.
 *
 * libazbuse does not link jemalloc.  A library that did would put
 * jemalloc's malloc, free and C++ operator new into every embedder's
 * global symbol scope, behind the C library's malloc but ahead of
 * libstdc++'s operator new: a C++ library (Ceph's) then frees with glibc
 * what jemalloc allocated, and the program aborts before main.  Nor can
 * the library dlopen() jemalloc on its own: its initial-exec TLS does not
 * fit the static TLS left after start-up.  So the program decides: a
 * program that links jemalloc (azbuse-run does) has it loaded before
 * main, and the runtime finds it here by its soname (RTLD_NOLOAD: look,
 * never load) and takes per-poller arenas from it; any other program
 * keeps its malloc, and the runtime uses the C library's.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <jemalloc/jemalloc.h>
#include "alloc.h"

#define AZB_LINE	64
#define AZB_JEMALLOC	"libjemalloc.so.2"

static struct {
	void	*(*mallocx)(size_t size, int flags);
	void	(*dallocx)(void *p, int flags);
	int	(*mallctl)(const char *name, void *oldp, size_t *oldlenp,
			   void *newp, size_t newlen);
} azb_je;
static pthread_once_t azb_je_once = PTHREAD_ONCE_INIT;

static void azb_je_find(void)
{
	void *h = dlopen(AZB_JEMALLOC, RTLD_NOW | RTLD_NOLOAD | RTLD_LOCAL);

	if (!h)
		return;
	azb_je.mallocx = (void *(*)(size_t, int))dlsym(h, "mallocx");
	azb_je.dallocx = (void (*)(void *, int))dlsym(h, "dallocx");
	azb_je.mallctl = (int (*)(const char *, void *, size_t *, void *,
				  size_t))dlsym(h, "mallctl");
	if (!azb_je.mallocx || !azb_je.dallocx || !azb_je.mallctl)
		memset(&azb_je, 0, sizeof(azb_je));
	/* The handle stays open: the program loaded it, it never unloads. */
}

bool azb_alloc_is_jemalloc(void)
{
	pthread_once(&azb_je_once, azb_je_find);
	return azb_je.mallocx != NULL;
}

void *azb_zalloc(size_t bytes)
{
	void *p;

	bytes = bytes ? bytes : 1;
	if (azb_alloc_is_jemalloc())
		return azb_je.mallocx(bytes, MALLOCX_ZERO | MALLOCX_ALIGN(AZB_LINE));
	/* aligned_alloc wants a multiple of the alignment. */
	bytes = (bytes + AZB_LINE - 1) & ~(size_t)(AZB_LINE - 1);
	p = aligned_alloc(AZB_LINE, bytes);
	if (p)
		memset(p, 0, bytes);
	return p;
}

void azb_free(void *p)
{
	if (!p)
		return;
	if (azb_alloc_is_jemalloc())
		azb_je.dallocx(p, 0);
	else
		free(p);
}

/* Arenas made for pollers, free or in use; only ever grows. */
struct azb_arena {
	struct azb_arena	*next;
	unsigned int		index;
	int			node;
	bool			busy;
};

static pthread_mutex_t azb_arenas_lock = PTHREAD_MUTEX_INITIALIZER;
static struct azb_arena *azb_arenas;
static __thread struct azb_arena *azb_my_arena;

static struct azb_arena *azb_arena_get(int node)
{
	struct azb_arena *a;
	size_t sz = sizeof(unsigned int);
	unsigned int index;

	for (a = azb_arenas; a; a = a->next)
		if (!a->busy && a->node == node)
			return a;
	if (azb_je.mallctl("arenas.create", &index, &sz, NULL, 0))
		return NULL;
	/* Control path: the list itself may come from any arena. */
	a = azb_zalloc(sizeof(*a));
	if (!a)
		return NULL;
	a->index = index;
	a->node = node;
	a->next = azb_arenas;
	azb_arenas = a;
	return a;
}

void azb_alloc_thread_arena(int node)
{
	struct azb_arena *a;

	/* The C library's malloc already gives each thread an arena. */
	if (!azb_alloc_is_jemalloc())
		return;
	pthread_mutex_lock(&azb_arenas_lock);
	a = azb_arena_get(node);
	if (a && !azb_je.mallctl("thread.arena", NULL, NULL, &a->index,
				 sizeof(a->index))) {
		a->busy = true;
		azb_my_arena = a;
	}
	pthread_mutex_unlock(&azb_arenas_lock);
}

void azb_alloc_thread_arena_put(void)
{
	if (!azb_my_arena)
		return;
	pthread_mutex_lock(&azb_arenas_lock);
	azb_my_arena->busy = false;
	pthread_mutex_unlock(&azb_arenas_lock);
	azb_my_arena = NULL;
}
