/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libazbuse: the public API of the azbuse runtime.
 *
 * Three parts:
 *  - device control: add, remove, list and query /dev/azbuseN devices;
 *  - the server: attach a device, run one poller thread per hardware queue
 *    and hand each request to a storage engine;
 *  - the engine API: what a storage engine implements (see engines/null.c,
 *    the smallest complete engine).
 *
 * Functions return 0 or a negative errno unless said otherwise.  Option and
 * info structs carry their own size so they can grow without breaking
 * callers: set it with the matching *_init() function.
 */
#ifndef AZBUSE_H
#define AZBUSE_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
/*
 * The kernel ABI's own names (AZBUSE_FEAT_*, AZBUSE_MAX_*, ...) come with
 * the API, as liburing brings io_uring's: a program includes this header
 * and nothing else of azbuse's.
 */
#include <linux/azbuse.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AZB_VERSION	"0.1.0"

/* ---- device control ---------------------------------------------------- */

#define AZB_ID_ANY		0xffffffffU

#define AZB_DEV_READ_ONLY	(1ULL << 0)
#define AZB_DEV_ROTATIONAL	(1ULL << 1)
#define AZB_DEV_WRITE_CACHE	(1ULL << 2)	/* volatile cache: FLUSH + FUA */
#define AZB_DEV_DISCARD		(1ULL << 3)
#define AZB_DEV_WRITE_ZEROES	(1ULL << 4)
#define AZB_DEV_RECOVERY	(1ULL << 5)

enum azb_dev_state {
	AZB_STATE_IDLE = 0,	/* no runtime attached */
	AZB_STATE_LIVE = 1,	/* served by a runtime */
	AZB_STATE_REMOVING = 2,
	AZB_STATE_RECOVERING = 3, /* runtime gone; I/O held for a new one */
};

/* Parameters of a device; zero fields take the kernel's defaults. */
struct azb_dev_params {
	size_t		size;		/* sizeof(struct azb_dev_params) */
	uint32_t	dev_id;		/* AZB_ID_ANY or the id wanted */
	/*
	 * Poll queues after the nr_queues others (AZBUSE_FEAT_POLL_QUEUES),
	 * for I/O submitted polled (io_uring IOPOLL); 0: none.
	 */
	uint32_t	nr_poll_queues;
	uint64_t	dev_bytes;
	uint64_t	flags;		/* AZB_DEV_* */
	uint32_t	logical_bs;
	uint32_t	physical_bs;
	uint32_t	max_io_bytes;
	uint32_t	nr_queues;
	uint32_t	queue_depth;
	uint32_t	timeout_ms;
	uint32_t	recovery_ms;	/* AZB_DEV_RECOVERY: how long to hold I/O */
	/* AZB_DEV_DISCARD / AZB_DEV_WRITE_ZEROES limits, in bytes. */
	uint32_t	max_discard_bytes;
	uint32_t	discard_granularity;
	uint32_t	max_write_zeroes_bytes;
};

/* What the kernel reports about a device. */
struct azb_dev_info {
	struct azb_dev_params params;	/* as applied by the kernel */
	enum azb_dev_state state;
	int		owner_pid;	/* runtime serving it, or 0 */
	unsigned int	blk_major, blk_minor;
	unsigned int	chr_major, chr_minor;
};

struct azb_features {
	unsigned int	abi_version;
	uint64_t	features;	/* AZBUSE_FEAT_* from the uapi header */
	unsigned int	max_queues;
	unsigned int	max_depth;
	unsigned int	max_io_bytes;
};

void azb_dev_params_init(struct azb_dev_params *p);

/* Fills info->params with what the kernel applied; info may be NULL. */
int azb_dev_add(const struct azb_dev_params *p, struct azb_dev_info *info);
int azb_dev_remove(uint32_t dev_id);
int azb_dev_get_info(uint32_t dev_id, struct azb_dev_info *info);
/* Writes up to cap ids to ids; returns how many devices exist, or -errno. */
int azb_dev_list(uint32_t *ids, unsigned int cap);
int azb_get_features(struct azb_features *f);

/* "/dev/azbuseN" and "/dev/azbusecN" for an id; buf of at least 32 bytes. */
void azb_blk_path(uint32_t dev_id, char *buf, size_t len);
void azb_chr_path(uint32_t dev_id, char *buf, size_t len);
/*
 * The label and serial the serving runtime gave the device (empty when
 * none serves it): 0, -ENODEV (no such device) or -EOPNOTSUPP (a module
 * without AZBUSE_FEAT_LABEL).  Either buffer may be NULL.
 */
int azb_dev_get_label(uint32_t dev_id, char *label, size_t llen,
		      char *serial, size_t slen);
/* Parses "N", "azbuseN" or "/dev/azbuseN"; returns 0 or -EINVAL. */
int azb_parse_dev_id(const char *s, uint32_t *dev_id);

/* ---- engine API -------------------------------------------------------- */

#define AZB_ENGINE_OPS_VERSION	1

enum azb_op {
	AZB_OP_READ = 0,
	AZB_OP_WRITE = 1,
	AZB_OP_FLUSH = 2,
	AZB_OP_DISCARD = 3,
	AZB_OP_WRITE_ZEROES = 4,
};

/* Request flags: the AZBUSE_IO_F_* bits of the uapi header, unchanged. */
#define AZB_IO_FUA		(1U << 0)
#define AZB_IO_PREFLUSH		(1U << 1)
#define AZB_IO_SYNC		(1U << 2)
#define AZB_IO_META		(1U << 3)
#define AZB_IO_PRIO		(1U << 4)
#define AZB_IO_NOUNMAP		(1U << 5)
#define AZB_IO_RAHEAD		(1U << 6)
#define AZB_IO_BACKGROUND	(1U << 7)
#define AZB_IO_IDLE		(1U << 8)
#define AZB_IO_FAILFAST		(1U << 9)
#define AZB_IO_NOWAIT		(1U << 10)

/* One request, owned by the engine from queue() until it completes. */
struct azb_io {
	enum azb_op	op;
	uint32_t	flags;		/* AZB_IO_* */
	uint64_t	offset;		/* bytes */
	uint32_t	len;		/* bytes; 0 for FLUSH */
	uint16_t	ioprio;
	uint16_t	tag;		/* slot index within the queue */
	void		*buf;		/* the slot: len bytes, page aligned */
	void		*engine_ctx;	/* ops->io_ctx_bytes of engine space */
};

/* Engine flags. */
#define AZB_ENGINE_F_NEEDS_TARGET	(1U << 0) /* TARGET argument required */
#define AZB_ENGINE_F_NO_TARGET		(1U << 1) /* TARGET argument refused */
/*
 * wait() also returns when the queue's wake_fd is readable and then clears
 * it, as azb_engine_poll() does.  The runtime then lets wait() sleep long,
 * where otherwise it must look at its SQ every millisecond.
 */
#define AZB_ENGINE_F_WAKE_FD		(1U << 2)

/* Options handed to engines; engines read what they understand. */
struct azb_engine_opts {
	size_t		size;		/* sizeof(struct azb_engine_opts) */
	uint64_t	dev_bytes;	/* requested size, 0 if not given */
	uint32_t	logical_bs;	/* requested block size, 0 if not given */
	bool		read_only;
	/*
	 * Engine-specific options, "key[=value],...", or NULL; an engine
	 * refuses keys it does not know.
	 */
	const char	*params;
	/*
	 * The device has a volatile write cache, so
	 * the kernel sends FLUSH and FUA when data must be durable and the
	 * engine may complete a write before it is.
	 */
	bool		write_cache;
};

struct azb_engine;

/* An engine's per-device context. */
struct azb_engine {
	const struct azb_engine_ops *ops;
	void		*priv;		/* the engine's own state */
	/* set by open(): */
	uint64_t	dev_bytes;	/* device size the engine serves */
	uint32_t	logical_bs;	/* 0: the runtime's default */
	/*
	 * AZB_DEV_* the engine can serve (DISCARD, WRITE_ZEROES) or needs
	 * (READ_ONLY); the server asks the kernel for those it offers.
	 */
	uint64_t	dev_flags;
	/*
	 * Request flags the target cannot honour and the runtime emulates
	 * around the engine, any of:
	 *   AZB_IO_PREFLUSH  the engine gets a FLUSH first, and the request
	 *                    itself only once that FLUSH succeeded;
	 *   AZB_IO_FUA       a WRITE, DISCARD or WRITE_ZEROES that succeeded
	 *                    is followed by a FLUSH, and completes with it.
	 * Each step is a request of its own to queue(), on the same tag, one
	 * after the other, and the engine never sees the flags emulated.  A
	 * step that fails ends the request with its error.  An engine with
	 * a write cache it cannot flush has nothing to emulate.
	 */
	uint32_t	emulate;
	/* With DISCARD / WRITE_ZEROES: the target's limits; 0: the kernel's. */
	uint32_t	max_discard_bytes;
	uint32_t	discard_granularity;
	uint32_t	max_write_zeroes_bytes;
	/* Set by the runtime, for azb_engine_resize(). */
	struct azb_server *server;
	/*
	 * Redirect: files the engine offered with
	 * azb_engine_add_file() in open(), and whether the kernel took them
	 * (set by the runtime before the first queue_init()).
	 */
	unsigned int	nr_files;
	int		files[64];
	uint32_t	file_flags[64];
	bool		redirect;
};

/* An engine's per-queue context; the queue's poller thread owns it. */
struct azb_engine_queue {
	struct azb_engine *engine;
	void		*priv;		/* the engine's per-queue state */
	unsigned int	qid;
	unsigned int	depth;
	void		*arena;		/* depth slots of max_io_bytes */
	size_t		arena_bytes;
	uint32_t	max_io_bytes;
	struct azb_queue *rt;		/* runtime side: for azb_io_complete() */
	/*
	 * Readable when the kernel queued a request while the
	 * poller sleeps in wait(), or -1 if this kernel cannot say so.
	 */
	int		wake_fd;
	/*
	 * The kernel takes redirects on this queue (engine->
	 * redirect).  Then a WRITE arrives without its data (io->buf holds
	 * none): the engine must redirect it or fail it.
	 */
	bool		redirect;
};

#define AZB_IO_QUEUED		1 /* queue(): the engine completes it later */
#define AZB_IO_REDIRECTED	2 /* queue() or azb_io_complete(): see below */

/*
 * Redirect: an engine whose bytes live in files or block
 * devices the kernel can do direct I/O on answers a READ or WRITE with
 * where they are, and the kernel moves them between the request's own
 * pages and those files itself: no copy through the arena, no data
 * through the engine.  The engine offers its files in open(); the runtime
 * registers them with the kernel, which refuses a file it cannot do direct
 * I/O on at the device's block size or one on the device itself.  If it
 * took them, every queue has redirect set and the engine answers each
 * WRITE (and any READ it likes) with azb_io_redirect*(); if not (an older
 * kernel, a refused file: the runtime says why on stderr), the engine
 * serves from the arena as before.  FLUSH, DISCARD and WRITE_ZEROES
 * always go through the engine.  A FUA WRITE is written O_DSYNC.
 */
#define AZB_MAX_FILES		64
#define AZB_MAX_EXTENTS		256
#define AZB_FILE_HOLE		0xffffffffU	/* reads as zeros */
#define AZB_FILE_READ_ONLY	(1U << 0)	/* serves only READs */

/* Part of a request: len bytes of it at offset in a file. */
struct azb_extent {
	uint32_t	file;	/* azb_engine_add_file()'s index, or AZB_FILE_HOLE */
	uint32_t	len;	/* bytes, whole logical blocks */
	uint64_t	offset;	/* bytes into the file, whole logical blocks */
};

/*
 * In open(): offers fd (opened for reading, and writing unless
 * AZB_FILE_READ_ONLY) for redirects.  The fd stays the engine's; it must
 * stay open until close().  Returns the file's index or -errno.
 */
int azb_engine_add_file(struct azb_engine *e, int fd, unsigned int flags);

/*
 * Answers io with where its bytes are: all of them in one file at offset,
 * or n extents in order that together cover io->len (holes only in a
 * READ; extents of one file must not overlap).  Returns AZB_IO_REDIRECTED,
 * for queue() to return or to pass to azb_io_complete(), or -errno (the
 * queue does not redirect, too many extents), which the engine may return
 * as the request's error.  The list is written to io->buf.
 */
int azb_io_redirect(struct azb_engine_queue *q, struct azb_io *io,
		    unsigned int file, uint64_t offset);
int azb_io_redirect_extents(struct azb_engine_queue *q, struct azb_io *io,
			    const struct azb_extent *ext, unsigned int n);

/*
 * An option an engine takes in azb_engine_opts.params ("KEY[=VALUE],...",
 * azbuse-run's -o), declared where the engine is defined: its table is the
 * one place that knows it.  The engine reads its params through
 * azb_engine_opt_next(), which checks each option against the table; tools
 * build their help and long options from it.
 */
enum azb_engine_opt_kind {
	AZB_EOPT_FLAG,		/* KEY alone */
	AZB_EOPT_UINT,		/* KEY=N, 0..max */
	AZB_EOPT_SIZE,		/* KEY=SIZE, as azb_parse_size() reads it */
	AZB_EOPT_TEXT,		/* KEY=TEXT, any non-empty text without ',' */
	AZB_EOPT_CHOICE,	/* KEY=one of choices */
};

struct azb_engine_opt {
	const char	*key;		/* NULL ends the table */
	enum azb_engine_opt_kind kind;
	const char	*arg;		/* the value's name for help ("SECONDS") */
	const char	*help;		/* what it does, with its default */
	/* A long option the tools offer for it (--FLAG[ VALUE]), or NULL. */
	const char	*flag;
	unsigned long	max;		/* UINT: the largest value */
	const char	*choices;	/* CHOICE: "a|b|c" */
};

/* One option of params, checked: see azb_engine_opt_next(). */
struct azb_engine_optval {
	const struct azb_engine_opt *opt;	/* the table's entry */
	const char	*val;		/* NULL for a flag; not NUL-terminated */
	size_t		vlen;
	uint64_t	num;		/* UINT, SIZE: the value; CHOICE: its index */
};

/* open and queue are required; every other op may be NULL. */
struct azb_engine_ops {
	const char	*name;
	const char	*help;		/* one line for --help */
	unsigned int	version;	/* AZB_ENGINE_OPS_VERSION */
	unsigned int	flags;		/* AZB_ENGINE_F_* */
	size_t		io_ctx_bytes;	/* per-request engine space */
	/*
	 * The options params may hold, ended by a NULL key; the runtime
	 * refuses any other before open().  NULL: the engine checks params
	 * itself (an empty table: it takes none).
	 */
	const struct azb_engine_opt *opts;

	int  (*open)(struct azb_engine *e, const char *target,
		     const struct azb_engine_opts *o);
	void (*close)(struct azb_engine *e);
	int  (*queue_init)(struct azb_engine_queue *q);
	void (*queue_exit)(struct azb_engine_queue *q);
	/*
	 * Start one request: return 0 (done, success), -errno (done, failed)
	 * or AZB_IO_QUEUED (the engine calls azb_io_complete() from reap()).
	 */
	int  (*queue)(struct azb_engine_queue *q, struct azb_io *io);
	/* Optional: push what queue() batched up. */
	void (*commit)(struct azb_engine_queue *q);
	/* Optional: complete what finished; returns how many. */
	int  (*reap)(struct azb_engine_queue *q);
	/*
	 * Optional: sleep until a request the engine holds finishes or
	 * timeout_us passes (then reap() completes it).  An idle poller
	 * with requests in flight calls it instead of spinning; without it,
	 * such a poller spins.
	 */
	void (*wait)(struct azb_engine_queue *q, unsigned int timeout_us);
};

/*
 * For engines, in open(): the next option of *params (o->params), checked
 * against ops->opts: 1 and it in *v (*params moves past it), 0 once none
 * is left, -EINVAL after a message on stderr naming the engine, the
 * option and what it takes (unknown key, a value missing, given to a flag,
 * not a number in range, not one of the choices).
 */
int azb_engine_opt_next(const struct azb_engine_ops *ops, const char **params,
			struct azb_engine_optval *v);

/*
 * Messages of the library and its engines (errors, a lost connection, a
 * resize), one line each without the newline, at syslog's levels.  By
 * default they go to stderr, up to AZB_LOG_NOTICE.  azb_set_log() sends
 * them to fn instead (NULL: stderr again) and drops those above max_level;
 * it holds for the whole process (messages come from threads no server
 * owns), so a program sets it once, before its first server.  fn may be
 * called from any thread, the polling threads included, and must not call
 * into libazbuse.
 */
enum azb_log_level {
	AZB_LOG_ERR	= 3,	/* a request, an open, a command line failed */
	AZB_LOG_WARNING	= 4,	/* something degraded (reconnecting, no redirect) */
	AZB_LOG_NOTICE	= 5,	/* a normal event worth knowing (reconnected, resized) */
	AZB_LOG_INFO	= 6,
	AZB_LOG_DEBUG	= 7,
};
typedef void (*azb_log_fn)(void *arg, int level, const char *msg);
void azb_set_log(azb_log_fn fn, void *arg, int max_level);
/* For engines (and the runtime): never write to stdio, call this. */
void azb_log(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * For an engine's wait(): sleeps until one of its n fds (n <= 8) has an
 * event it asks for, the queue's wake_fd is readable (which it then
 * clears), or timeout_us passes.  Returns how many of fds have events
 * (their revents set), 0 (timed out or woken), or -errno.  An fd of -1
 * is skipped, as poll() does.
 */
struct pollfd;
#define AZB_ENGINE_POLL_MAX	8
int azb_engine_poll(struct azb_engine_queue *q, struct pollfd *fds,
		    unsigned int n, unsigned int timeout_us);

/*
 * For engines: finish a request that queue() returned AZB_IO_QUEUED for.
 * With emulate set, this may hand the request's next step to queue()
 * before it returns (then commit() follows once reap() is done).
 */
void azb_io_complete(struct azb_engine_queue *q, struct azb_io *io, int res);

/*
 * For engines: the target now holds dev_bytes.  A device sized
 * from the engine (no size asked for) follows, rounded down to whole
 * logical blocks, when the kernel can resize (AZBUSE_FEAT_RESIZE).  Any
 * thread may call it, a library's notification callback included.  0 (also
 * when the device keeps its size by choice), -EOPNOTSUPP (no runtime or no
 * kernel support) or -errno.
 */
int azb_engine_resize(struct azb_engine *e, uint64_t dev_bytes);

/*
 * Engines: the built-in ones (null, mem, odirect, stripe: nothing beyond
 * what libazbuse needs) and plugins, shared objects NAME.so that an engine
 * needing an outside library (nbd: libnbd, rbd: librbd) is built as, so
 * that neither libazbuse nor a program that embeds it loads those.  A
 * plugin is looked for in each directory of $AZBUSE_ENGINE_PATH (':'-
 * separated), then in azbuse/engines beside the libazbuse.so in use, then
 * in ../lib/azbuse/engines from the program's own directory (so a tool
 * run from the build tree finds the plugins built with it).
 *
 * A plugin defines AZB_ENGINE_PLUGIN(its ops[, init]): the runtime checks
 * its ABI and ops version and the engine's name against the file's, and
 * calls init (optional: 0, or -errno after logging why) once at load.
 */
#define AZB_ENGINE_PLUGIN_ABI	1
struct azb_engine_plugin {
	unsigned int			abi;	/* AZB_ENGINE_PLUGIN_ABI */
	const struct azb_engine_ops	*ops;
	int				(*init)(void);
};
#define AZB_ENGINE_PLUGIN(ops_, init_) \
	__attribute__((visibility("default"))) \
	const struct azb_engine_plugin azb_engine_plugin = { \
		AZB_ENGINE_PLUGIN_ABI, &(ops_), (init_) }

/*
 * The engine NAME, built in or loaded from its plugin: 0 and *ops, -ENOENT
 * if there is none by that name, or another -errno after one line through
 * azb_log() saying why the plugin could not be used (not loadable, not a
 * plugin, another ABI, its init failed).  A loaded plugin stays loaded.
 */
int azb_engine_load(const char *name, const struct azb_engine_ops **ops);
/* azb_engine_load(), NULL for any failure. */
const struct azb_engine_ops *azb_engine_find(const char *name);
/*
 * The built-in engines and the plugins loaded so far, NULL-ended; after
 * azb_engine_load_all(), every plugin found (for a listing).
 */
const struct azb_engine_ops *const *azb_engine_list(void);
void azb_engine_load_all(void);

/* ---- server ------------------------------------------------------------ */

enum azb_poll_mode {
	AZB_POLL_ADAPTIVE = 0,	/* spin poll_spin_us, then sleep (default) */
	AZB_POLL_BUSY = 1,	/* never sleep */
	AZB_POLL_SLEEP = 2,	/* sleep whenever idle */
};

/* Where each queue's poller may run. */
enum azb_pin {
	/*
	 * Any usable CPU of the NUMA node(s) of the queue's CPUs (default):
	 * a poller whose submitting CPU is busy moves to an idle one of the
	 * node, so one submitting thread and its poller run side by side.
	 */
	AZB_PIN_NODE = 0,
	/*
	 * Only the usable CPUs blk-mq maps to the queue: the poller always
	 * shares its submitters' CPUs (never a cross-CPU wake-up).
	 */
	AZB_PIN_QUEUE = 1,
};

/*
 * The scheduling policy of the pollers.  A sleeping poller is woken by the
 * kernel when a request is queued, often on the CPU of the thread that
 * queued it.  Under the normal policy (SCHED_OTHER) the woken poller
 * preempts that thread at once, takes the one request and sleeps again,
 * so a submitter that queues 32 requests one system call at a time costs
 * two context switches each.  A SCHED_BATCH poller does not preempt on
 * wake-up: it runs when the submitter blocks (or on a free CPU at once)
 * and finds the whole batch.  It keeps a normal thread's share of the CPU
 * (a CPU-bound program does not starve it; it may wait up to a scheduler
 * slice behind one).
 */
enum azb_sched {
	/*
	 * SCHED_BATCH if the thread that calls azb_server_start() has the
	 * normal policy (default); any other policy (real-time, SCHED_IDLE:
	 * set with chrt, say), which the pollers inherit, is kept.
	 */
	AZB_SCHED_BATCH = 0,
	/* The policy of the thread that calls azb_server_start(), whatever. */
	AZB_SCHED_INHERIT = 1,
};

struct azb_server_opts {
	size_t		size;		/* sizeof(struct azb_server_opts) */
	const struct azb_engine_ops *engine;
	const char	*target;	/* engine argument, may be NULL */
	struct azb_dev_params dev;	/* for a device the server creates */
	uint32_t	attach_id;	/* AZB_ID_ANY: create; else serve this */
	enum azb_poll_mode poll;
	unsigned int	poll_spin_us;	/* adaptive: spin before sleeping */
	unsigned int	batch;		/* most SQEs taken per loop */
	const char	*engine_params;	/* struct azb_engine_opts.params */
	/*
	 * CPUs the pollers may run on ("0-3,8"), or NULL: those the
	 * program's threads may run on.  Each poller runs among these on
	 * its queue's node or CPUs, as pin says (azb_server_queue_cpus()).
	 * azb_server_create() fails with -EINVAL if the list is malformed
	 * or holds no usable CPU.
	 */
	const char	*cpus;
	enum azb_pin	pin;		/* AZB_PIN_NODE (default) or _QUEUE */
	/*
	 * What the device is served from, for `azbusectl list` and udev
	 * (AZBUSE_FEAT_LABEL; see azb_dev_get_label()).  NULL: the label is
	 * "ENGINE TARGET" and, with a target, the serial (the name of its
	 * /dev/disk/by-id/azbuse-SERIAL link) is "ENGINE-TARGET", characters
	 * other than letters, digits and ._-: made '_'.  "" for no serial.
	 */
	const char	*label;
	const char	*serial;
	enum azb_sched	sched;		/* AZB_SCHED_BATCH (default) or _INHERIT */
};

struct azb_server;

void azb_server_opts_init(struct azb_server_opts *o);
/* Opens the engine and creates (or attaches to) the device. */
int azb_server_create(const struct azb_server_opts *o, struct azb_server **out);
/* Starts one poller per queue; the device serves I/O on return. */
int azb_server_start(struct azb_server *s);
uint32_t azb_server_dev_id(const struct azb_server *s);
const struct azb_dev_info *azb_server_info(const struct azb_server *s);
/* True while every poller runs (false once the device was removed). */
bool azb_server_running(const struct azb_server *s);
/*
 * Stops serving: finishes what the engine holds, then removes the device
 * if this server created it (requests still queued fail) or detaches.
 * Returns the first error a poller hit, or 0.
 */
int azb_server_stop(struct azb_server *s);
void azb_server_destroy(struct azb_server *s);

#define AZB_STATS_BATCH_BUCKETS	14

/*
 * Per-queue counters, readable while serving; all count from the start.
 * Time is split as SPDK's pollers split it: a pass of the poller's loop
 * that found requests or completions is busy, one that found none (and
 * any sleep it ended in) is idle.  The struct grows only with a new
 * symbol version: a program built against 0.1 gets the 0.1 fields.
 */
struct azb_queue_stats {
	uint64_t	ios[5];		/* requests by enum azb_op */
	uint64_t	bytes;		/* their bytes, all ops */
	uint64_t	errors;		/* requests completed with an error */
	uint64_t	batches;	/* commits that handed back completions */
	uint64_t	bad_completions; /* commits whose CQEs the kernel refused */
	uint64_t	op_bytes[5];	/* bytes by enum azb_op */
	uint64_t	commits;	/* COMMIT system calls */
	uint64_t	commit_waits;	/* of those, ones that slept for requests */
	uint64_t	engine_waits;	/* sleeps in the engine's wait op */
	uint64_t	takes;		/* passes that took requests off the ring */
	/*
	 * Takes by size: bucket b counts 2^b..2^(b+1)-1 requests (the last
	 * bucket: that many or more).
	 */
	uint64_t	batch_hist[AZB_STATS_BATCH_BUCKETS];
	/*
	 * Requests outstanding (waiting or in the engine) at each take:
	 * qd_sum / takes is the mean queue depth seen, qd_max the deepest.
	 */
	uint64_t	qd_sum;
	uint64_t	qd_max;
	uint64_t	busy_ns;	/* loop time that found work */
	uint64_t	idle_ns;	/* loop time that found none, sleeping included */
	uint64_t	redirects;	/* requests answered with a redirect */
	/* Poll queue: completions its submitters reaped, without a COMMIT. */
	uint64_t	polled;
};

int azb_server_queue_stats(const struct azb_server *s, unsigned int qid,
			   struct azb_queue_stats *st);
unsigned int azb_server_nr_queues(const struct azb_server *s);
/*
 * Where queue qid's poller runs: writes its CPUs as a list ("0-3,8",
 * truncated to len bytes) to cpus and the NUMA node its memory is on (-1:
 * unknown) to *node (may be NULL).  Returns the list's full length, or
 * -errno.
 */
int azb_server_queue_cpus(const struct azb_server *s, unsigned int qid,
			  char *cpus, size_t len, int *node);

/* True if queue qid is a poll queue. */
bool azb_server_queue_is_poll(const struct azb_server *s, unsigned int qid);

/* Size with an optional K/M/G/T/P suffix (powers of 1024): "1G", "512". */
int azb_parse_size(const char *s, uint64_t *out);

#ifdef __cplusplus
}
#endif

#endif /* AZBUSE_H */
