// SPDX-License-Identifier: MIT
/*
 * args.c - vgpuctl's command line (see ctl.h): global options, the verb,
 * its names, then its options as "--opt VALUE" or "--opt=VALUE".  Every
 * value is checked here, so a typo never reaches the server.
 */
#include "ctl/ctl.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int bad(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int bad(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

void ctl_usage(FILE *f)
{
	fprintf(f,
		"usage: vgpuctl [-s HOST:PORT | -p POOLFILE] COMMAND\n"
		"  list\n"
		"  create NAME --gpu N --mem SIZE --compute PCT [--priority 0-7]\n"
		"  resize NAME [--mem SIZE] [--compute PCT]\n"
		"  split NAME NEWNAME --mem-new SIZE [--compute-new PCT]\n"
		"  delete NAME\n"
		"With a pool (-p, or $VGPU_POOL): list shows every server; create takes\n"
		"  [--policy binpack|spread] [--server SERVERNAME] [--gpu N] and picks the rest;\n"
		"  resize, split and delete take [--server SERVERNAME] (default: the server\n"
		"  that has NAME).\n"
		"SIZE is a percentage of the GPU's memory (\"10%%\") or bytes with a K, M, G or T\n"
		"suffix (\"4G\", \"512M\").  NAME: 1-%d characters of A-Z a-z 0-9 _ . -\n"
		"The server is -s, else the pool of $VGPU_POOL, else $VGPU_SERVER, else %s.\n",
		VGPU_PARTITION_NAME_MAX, CTL_DEFAULT_SERVER);
}

/* Decimal digits only, no leading zeros; 0 or -EINVAL. */
static int parse_u64(const char *s, const char **end, uint64_t *out)
{
	uint64_t v = 0;
	const char *p = s;

	if (!isdigit((unsigned char)*p) || (p[0] == '0' && isdigit((unsigned char)p[1])))
		return -EINVAL;
	for (; isdigit((unsigned char)*p); p++) {
		unsigned int d = *p - '0';

		if (v > (UINT64_MAX - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
	}
	*end = p;
	*out = v;
	return 0;
}

int ctl_parse_uint(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	const char *end;
	uint64_t v;

	if (parse_u64(s, &end, &v) || *end || v < min || v > max)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

int ctl_parse_mem(const char *s, struct ctl_mem *m)
{
	const char *end;
	unsigned int shift = 0;
	uint64_t v;

	if (parse_u64(s, &end, &v) || !v)
		return -EINVAL;
	if (end[0] == '%' && !end[1]) {
		if (v > 100)
			return -EINVAL;
		m->bytes = 0;
		m->pct = (uint32_t)v;
		return 0;
	}
	switch (toupper((unsigned char)*end)) {
	case '\0': break;
	case 'K': shift = 10; break;
	case 'M': shift = 20; break;
	case 'G': shift = 30; break;
	case 'T': shift = 40; break;
	default: return -EINVAL;
	}
	if (shift) {
		end++;
		if (!strcasecmp(end, "iB") || !strcasecmp(end, "B"))
			end += strlen(end);
	}
	if (*end || v > (UINT64_MAX >> shift))
		return -EINVAL;
	m->bytes = v << shift;
	m->pct = 0;
	return 0;
}

static int take_name(const char *what, const char *s, char *dst, char *err, size_t errlen)
{
	if (!s)
		return bad(err, errlen, "missing %s", what);
	if (!vgpu_partition_name_ok(s))
		return bad(err, errlen, "%s '%s': expected 1-%d characters of A-Z a-z 0-9 _ . -",
			   what, s, VGPU_PARTITION_NAME_MAX);
	snprintf(dst, VGPU_PARTITION_NAME_MAX + 1, "%s", s);
	return 0;
}

/* Which options each verb takes. */
#define O_GPU		(1u << 0)
#define O_MEM		(1u << 1)
#define O_COMPUTE	(1u << 2)
#define O_PRIO		(1u << 3)
#define O_MEM_NEW	(1u << 4)
#define O_COMPUTE_NEW	(1u << 5)
#define O_POLICY	(1u << 6)
#define O_SERVER	(1u << 7)	/* a pool's server, by name */

static const struct {
	const char *name;
	unsigned int bit;
} options[] = {
	{ "--gpu", O_GPU }, { "--mem", O_MEM }, { "--compute", O_COMPUTE },
	{ "--priority", O_PRIO }, { "--mem-new", O_MEM_NEW }, { "--compute-new", O_COMPUTE_NEW },
	{ "--policy", O_POLICY }, { "--server", O_SERVER },
};

static int option(struct ctl_cmd *c, unsigned int bit, const char *opt, const char *val,
		  char *err, size_t errlen)
{
	switch (bit) {
	case O_GPU:
		if (ctl_parse_uint(val, 0, VGPU_GPU_ALL - 1, &c->gpu))
			return bad(err, errlen, "%s '%s': expected a GPU index", opt, val);
		c->has_gpu = true;
		return 0;
	case O_MEM:
	case O_MEM_NEW:
		if (ctl_parse_mem(val, &c->mem))
			return bad(err, errlen, "%s '%s': expected 1%%-100%% or a size like 4G or 512M",
				   opt, val);
		c->has_mem = true;
		return 0;
	case O_COMPUTE:
	case O_COMPUTE_NEW:
		if (ctl_parse_uint(val, 1, 100, &c->compute))
			return bad(err, errlen, "%s '%s': expected a percentage 1-100", opt, val);
		c->has_compute = true;
		return 0;
	case O_POLICY:
		if (place_parse_policy(val, &c->policy))
			return bad(err, errlen, "%s '%s': expected binpack or spread", opt, val);
		c->has_policy = true;
		return 0;
	case O_SERVER:
		if (!vgpu_partition_name_ok(val))
			return bad(err, errlen, "%s '%s': expected a server name of the pool", opt,
				   val);
		snprintf(c->pool_server, sizeof(c->pool_server), "%s", val);
		c->has_pool_server = true;
		return 0;
	default:
		if (ctl_parse_uint(val, 0, VGPU_PARTITION_PRIO_MAX, &c->priority))
			return bad(err, errlen, "%s '%s': expected a priority 0-%d", opt, val,
				   VGPU_PARTITION_PRIO_MAX);
		c->has_priority = true;
		return 0;
	}
}

/* The options after the names: each allowed one at most once. */
static int parse_options(struct ctl_cmd *c, unsigned int allowed, int argc, char **argv,
			 int i, char *err, size_t errlen)
{
	unsigned int seen = 0;

	while (i < argc) {
		const char *a = argv[i++], *val = NULL, *eq = strchr(a, '=');
		size_t alen = eq ? (size_t)(eq - a) : strlen(a);
		unsigned int bit = 0;
		const char *name = a;
		int ret;

		for (size_t k = 0; k < sizeof(options) / sizeof(options[0]); k++) {
			if (strlen(options[k].name) == alen && !strncmp(options[k].name, a, alen)) {
				bit = options[k].bit;
				name = options[k].name;
			}
		}
		if (!bit || !(allowed & bit))
			return bad(err, errlen, "unexpected argument '%s'", a);
		if ((bit & (O_POLICY | O_SERVER)) && !c->pool)
			return bad(err, errlen, "%s needs a pool (-p FILE or $VGPU_POOL)", name);
		if (seen & bit)
			return bad(err, errlen, "%s given twice", name);
		seen |= bit;
		if (eq) {
			val = eq + 1;
		} else {
			if (i >= argc)
				return bad(err, errlen, "%s needs a value", name);
			val = argv[i++];
		}
		ret = option(c, bit, name, val, err, errlen);
		if (ret)
			return ret;
	}
	return 0;
}

int ctl_parse_args(int argc, char **argv, const char *env_server, const char *env_pool,
		   struct ctl_cmd *c, char *err, size_t errlen)
{
	bool opt_s = false, opt_p = false;
	const char *verb;
	int i = 1, ret;

	memset(c, 0, sizeof(*c));
	c->server = env_server && *env_server ? env_server : CTL_DEFAULT_SERVER;
	if (errlen)
		err[0] = '\0';
	while (i < argc && argv[i][0] == '-') {
		const char *a = argv[i++];
		bool pool = !strcmp(a, "-p") || !strcmp(a, "--pool");

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			c->verb = CTL_HELP;
			return 0;
		}
		if (!pool && strcmp(a, "-s") && strcmp(a, "--server"))
			return bad(err, errlen, "unknown option '%s'", a);
		if (i >= argc || !argv[i][0])
			return bad(err, errlen, "%s needs %s", a, pool ? "a pool file" : "HOST:PORT");
		if (pool) {
			c->pool = argv[i++];
			opt_p = true;
		} else {
			c->server = argv[i++];
			opt_s = true;
		}
	}
	if (opt_s && opt_p)
		return bad(err, errlen, "-s and -p exclude each other");
	/* an explicit -s means that one server, whatever VGPU_POOL says */
	if (!opt_s && !opt_p && env_pool && *env_pool)
		c->pool = env_pool;
	if (i >= argc)
		return bad(err, errlen, "missing command");
	verb = argv[i++];
	if (!strcmp(verb, "list")) {
		c->verb = CTL_LIST;
		return parse_options(c, 0, argc, argv, i, err, errlen);
	}
	if (!strcmp(verb, "help")) {
		c->verb = CTL_HELP;
		return 0;
	}
	if (!strcmp(verb, "create"))
		c->verb = CTL_CREATE;
	else if (!strcmp(verb, "resize"))
		c->verb = CTL_RESIZE;
	else if (!strcmp(verb, "split"))
		c->verb = CTL_SPLIT;
	else if (!strcmp(verb, "delete"))
		c->verb = CTL_DELETE;
	else
		return bad(err, errlen, "unknown command '%s'", verb);

	ret = take_name("NAME", i < argc ? argv[i] : NULL, c->name, err, errlen);
	if (ret)
		return ret;
	i++;
	switch (c->verb) {
	case CTL_CREATE:
		ret = parse_options(c, O_GPU | O_MEM | O_COMPUTE | O_PRIO | O_POLICY | O_SERVER,
				    argc, argv, i, err, errlen);
		if (!ret && c->pool && (!c->has_mem || !c->has_compute))
			ret = bad(err, errlen, "create needs --mem and --compute");
		else if (!ret && !c->pool && (!c->has_gpu || !c->has_mem || !c->has_compute))
			ret = bad(err, errlen, "create needs --gpu, --mem and --compute");
		return ret;
	case CTL_RESIZE:
		ret = parse_options(c, O_MEM | O_COMPUTE | O_SERVER, argc, argv, i, err, errlen);
		if (!ret && !c->has_mem && !c->has_compute)
			ret = bad(err, errlen, "resize needs --mem or --compute");
		return ret;
	case CTL_SPLIT:
		ret = take_name("NEWNAME", i < argc ? argv[i] : NULL, c->newname, err, errlen);
		if (ret)
			return ret;
		if (!strcmp(c->name, c->newname))
			return bad(err, errlen, "NEWNAME must differ from NAME");
		ret = parse_options(c, O_MEM_NEW | O_COMPUTE_NEW | O_SERVER, argc, argv, i + 1, err,
				    errlen);
		if (!ret && !c->has_mem)
			ret = bad(err, errlen, "split needs --mem-new");
		return ret;
	default:	/* delete */
		return parse_options(c, O_SERVER, argc, argv, i, err, errlen);
	}
}
