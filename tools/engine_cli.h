/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Engines on azbuse-run's command line (engine_cli.c): finding the engine,
 * its long options, its -o list, its help.  A usage error exits 2, a
 * missing or broken engine 1 (cli.h's conventions); prog names the tool.
 */
#ifndef AZB_ENGINE_CLI_H
#define AZB_ENGINE_CLI_H

#include <stddef.h>
#include <azbuse.h>

/* Engine options, "k=v,...", as the command line gives them. */
struct azb_params {
	char		buf[4096];
	size_t		len;
};

/* An engine's long option given on the command line, and its value. */
struct azb_eflag_arg {
	const char	*flag;
	const char	*val;
};

/*
 * The engine the command line names (the last -e), read before the
 * options are parsed; NULL if none is named.
 */
const char *azb_engine_arg(int argc, char **argv);
/* Engine name, its plugin loaded if it is one; exits 1 with one line if not. */
const struct azb_engine_ops *azb_engine_get(const char *prog, const char *name);
/* Engine eng's option whose long option is flag, or NULL. */
const struct azb_engine_opt *azb_engine_flag(const struct azb_engine_ops *eng,
					     const char *flag);
/* "a, b" of the engines loaded that declare long option flag. */
void azb_engines_with_flag(const char *flag, char *buf, size_t len);
/* Appends KEY=VALUE or KEY to p; exits 2 on one that cannot be an option. */
void azb_params_add(const char *prog, struct azb_params *p, const char *opt,
		    const char *key, const char *val);
/*
 * The engine's long options given (a, n) onto params, then every param
 * checked against eng's table; exits 2 on a foreign or bad one.
 */
void azb_engine_flags_apply(const char *prog, const struct azb_engine_ops *eng,
			    const struct azb_eflag_arg *a, unsigned int n,
			    struct azb_params *params);
/* "--engine NAME --help": the engine's line and its options. */
void azb_engine_usage(const struct azb_engine_ops *eng);
/* Text wrapped at 79 columns, each line indented by indent spaces. */
void azb_print_wrapped(const char *text, int indent);

#endif /* AZB_ENGINE_CLI_H */
