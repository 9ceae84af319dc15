/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The runtime's own memory: from jemalloc's own API (mallocx, dallocx,
 * mallctl) when the program links jemalloc, else from the C library.
 * Either way the program's malloc is the one it chose (alloc.c says why).
 */
#ifndef AZB_ALLOC_H
#define AZB_ALLOC_H

#include <stdbool.h>
#include <stddef.h>

/* Zeroed and cache-line aligned, so two queues never share a line. */
void *azb_zalloc(size_t bytes);
void azb_free(void *p);
/* True if the runtime's memory comes from jemalloc (found at first use). */
bool azb_alloc_is_jemalloc(void);

/*
 * In a poller thread, after it is bound to its CPUs: gives the thread a
 * jemalloc arena of its own, so pollers never contend on an allocator
 * lock and what the thread allocates comes from pages it touches itself.
 * Arenas are kept per node and handed to later pollers (jemalloc cannot
 * free an arena that still holds objects of other threads).  Best effort:
 * without an arena the thread keeps jemalloc's default; without jemalloc,
 * nothing to do (the C library's malloc has per-thread arenas).
 */
void azb_alloc_thread_arena(int node);
/* Gives the thread's arena back (before the thread ends). */
void azb_alloc_thread_arena_put(void);

#endif /* AZB_ALLOC_H */
