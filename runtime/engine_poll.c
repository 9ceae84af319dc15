// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * azb_engine_poll(): the sleep of an engine's wait() on its own fds (a
 * socket, an eventfd its library's threads signal) together with the
 * queue's wake_fd, so that a request the kernel queues meanwhile ends the
 * sleep (AZB_ENGINE_F_WAKE_FD) and every engine clears it the same way.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>
#include "azbuse.h"

int azb_engine_poll(struct azb_engine_queue *q, struct pollfd *fds,
		    unsigned int n, unsigned int timeout_us)
{
	struct pollfd p[AZB_ENGINE_POLL_MAX + 1];
	struct timespec ts = {
		.tv_sec = timeout_us / 1000000,
		.tv_nsec = (long)(timeout_us % 1000000) * 1000,
	};
	unsigned int i;
	uint64_t count;
	int ret;

	if (n > AZB_ENGINE_POLL_MAX || (n && !fds))
		return -EINVAL;
	for (i = 0; i < n; i++)
		p[i] = fds[i];
	/* Last, so the engine's own events are looked at first. */
	p[n] = (struct pollfd){ .fd = q->wake_fd, .events = POLLIN };
	/* ppoll: a microsecond timeout stays one, not a millisecond. */
	ret = ppoll(p, n + 1, &ts, NULL);
	if (ret < 0)
		return -errno;
	for (i = 0; i < n; i++)
		fds[i].revents = p[i].revents;
	if (p[n].revents)
		ret--;
	/* Fails only if another reader emptied it first: cleared. */
	if ((p[n].revents & POLLIN) &&
	    read(q->wake_fd, &count, sizeof(count)) < 0)
		count = 0;
	return ret;
}
