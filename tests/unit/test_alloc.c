// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The runtime's memory (runtime/alloc.c), built twice: test_alloc links
 * jemalloc as the tools do, test_alloc_libc does not, as a program built
 * with libazbuse's pkg-config line.  Either way: the runtime uses jemalloc
 * exactly when the program loaded it, its blocks are zeroed and aligned to
 * a cache line, a poller thread's arena comes and goes, and the program's
 * own malloc is the one it chose (never jemalloc's unless it linked it).
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "alloc.h"
#include "check.h"

static void check_blocks(void)
{
	static const size_t sizes[] = { 0, 1, 63, 64, 65, 4096, 100000 };
	unsigned char *p[sizeof(sizes) / sizeof(sizes[0])];
	size_t i, j;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		p[i] = azb_zalloc(sizes[i]);
		CHECK(p[i], "azb_zalloc(%zu) failed", sizes[i]);
		if (!p[i])
			continue;
		CHECK((uintptr_t)p[i] % 64 == 0, "azb_zalloc(%zu) = %p: not "
		      "cache-line aligned", sizes[i], (void *)p[i]);
		for (j = 0; j < sizes[i]; j++)
			if (p[i][j])
				break;
		CHECK(j == sizes[i], "azb_zalloc(%zu): byte %zu not zero",
		      sizes[i], j);
		memset(p[i], 0xa5, sizes[i]);
	}
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		azb_free(p[i]);
	azb_free(NULL);
}

static void *poller_like(void *arg)
{
	azb_alloc_thread_arena(0);
	check_blocks();
	azb_alloc_thread_arena_put();
	return NULL;
}

int main(void)
{
	void *je = dlopen("libjemalloc.so.2", RTLD_NOW | RTLD_NOLOAD);
	void *(*mallocx)(size_t, int) = NULL;
	pthread_t t;
	int i;

	if (je)
		mallocx = (void *(*)(size_t, int))dlsym(je, "mallocx");
	CHECK(azb_alloc_is_jemalloc() == (mallocx != NULL),
	      "runtime on %s, but the program %s jemalloc",
	      azb_alloc_is_jemalloc() ? "jemalloc" : "the C library",
	      mallocx ? "loaded" : "did not load");
#ifdef AZB_TEST_NO_JEMALLOC
	CHECK(!je, "test_alloc_libc has jemalloc loaded: it must not link it");
	/* Nothing of jemalloc's in the global scope to interpose on malloc. */
	CHECK(!dlsym(RTLD_DEFAULT, "mallocx"),
	      "jemalloc is in the program's global symbol scope");
#else
	CHECK(je, "test_alloc does not have jemalloc loaded");
#endif
	check_blocks();
	/* Pollers come and go; their arenas are reused, never leaked. */
	for (i = 0; i < 4; i++) {
		CHECK(!pthread_create(&t, NULL, poller_like, NULL),
		      "pthread_create");
		pthread_join(t, NULL);
	}
	if (je)
		dlclose(je);
	if (failures)
		return 1;
	printf("alloc: ok (%s)\n", azb_alloc_is_jemalloc() ? "jemalloc" :
	       "C library");
	return 0;
}
