// SPDX-License-Identifier: LGPL-2.1-or-later
/* The runtime's memory: jemalloc, one arena per poller (alloc.h). */
#include <pthread.h>
#include <stdbool.h>
#include <jemalloc/jemalloc.h>
#include "alloc.h"

#define AZB_LINE	64

void *azb_zalloc(size_t bytes)
{
	return mallocx(bytes ? bytes : 1,
		       MALLOCX_ZERO | MALLOCX_ALIGN(AZB_LINE));
}

void azb_free(void *p)
{
	if (p)
		dallocx(p, 0);
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
	if (mallctl("arenas.create", &index, &sz, NULL, 0))
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

	pthread_mutex_lock(&azb_arenas_lock);
	a = azb_arena_get(node);
	if (a && !mallctl("thread.arena", NULL, NULL, &a->index,
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
