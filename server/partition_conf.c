// SPDX-License-Identifier: MIT
/*
 * partition_conf.c - partitions at vgpu-server's start: the GPUs probed in
 * a short-lived child (the parent never initialises CUDA: a driver context
 * does not survive fork), and the partitions of `--partitions FILE`.
 *
 * The file, through libinih (as vgpud.conf, userd/config.c):
 *
 *   [partition train]
 *   gpu = 0
 *   memory = 40G        # bytes (K, M, G, T suffixes) or a percentage "50%"
 *   compute = 50        # percent, 1-100
 *   priority = 3        # 0-7, default 0
 *
 * Any error (syntax, unknown section or key, a key twice, a bad value, a
 * GPU the server does not have, over-commit, a name twice) names file:line
 * and the server refuses to start: a partition silently missing would
 * leave its tenants unbounded or unable to attach.
 *
 * Linked into vgpu-server only (not libvgpuserver.a), so the library's
 * users need no libinih.
 */
#include "server/partition.h"

#include <errno.h>
#include <ini.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/ini_lines.h"
#include "common/log.h"
#include "server/backend.h"

int vgpu_part_probe(struct vgpu_partitions *t, const struct vgpu_server_config *cfg)
{
	const struct vgpu_backend_ops *ops = vgpu_backend_get(cfg->backend);
	int st = 0;
	pid_t pid;

	if (!ops)
		return -EINVAL;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		struct vgpu_alloc_table at;
		void *be = NULL;
		int ret = 1;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		vgpu_at_init(&at);
		if (ops->open(cfg, 0, &at, &be) == CUDA_SUCCESS) {
			ret = vgpu_part_learn_gpus(t, ops, be) ? 1 : 0;
			ops->close(be);
		}
		vgpu_at_fini(&at);
		_exit(ret);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(st) && !WEXITSTATUS(st) && vgpu_part_gpus_known(t) ? 0 : -ENODEV;
}

/* ---- --partitions FILE ------------------------------------------------- */

#define KEY_GPU		(1u << 0)
#define KEY_MEMORY	(1u << 1)
#define KEY_COMPUTE	(1u << 2)
#define KEY_PRIORITY	(1u << 3)

struct conf_part {
	char name[VGPU_PART_NAME_MAX + 1];
	int line;		/* of its header */
	unsigned int keys;
	uint32_t gpu, mem_pct, compute, priority;
	uint64_t mem_bytes;
};

struct parser {
	const char *path;
	FILE *f;
	int line;
	int err_line;		/* first error, 0 if none */
	char err[256];
	char sec_name[300];	/* as libinih reports it */
	int cur;		/* index into parts, -1: none or a bad section */
	uint32_t n;
	struct conf_part parts[VGPU_PART_MAX];
};

static void fail_at(struct parser *p, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fail_at(struct parser *p, int line, const char *fmt, ...)
{
	char msg[192];
	va_list ap;

	if (p->err_line && p->err_line <= line)
		return;		/* keep the first error */
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	p->err_line = line;
	snprintf(p->err, sizeof(p->err), "%s:%d: %s", p->path, line, msg);
}

static void enter_section(struct parser *p, const char *sec)
{
	const char *name = sec + strlen("partition ");

	snprintf(p->sec_name, sizeof(p->sec_name), "%s", sec);
	p->cur = -1;
	if (strncmp(sec, "partition ", strlen("partition ")) ||
	    !vgpu_partition_name_ok(name)) {
		fail_at(p, p->line, "section [%s]: expected [partition NAME], NAME 1-%d of "
			"A-Z a-z 0-9 _ . -", sec, VGPU_PART_NAME_MAX);
		return;
	}
	for (uint32_t i = 0; i < p->n; i++) {
		if (!strcmp(p->parts[i].name, name)) {
			fail_at(p, p->line, "partition %s repeated (first at line %d)", name,
				p->parts[i].line);
			return;
		}
	}
	if (p->n == VGPU_PART_MAX) {
		fail_at(p, p->line, "more than %d partitions", VGPU_PART_MAX);
		return;
	}
	p->cur = (int)p->n++;
	memset(&p->parts[p->cur], 0, sizeof(p->parts[p->cur]));
	snprintf(p->parts[p->cur].name, sizeof(p->parts[p->cur].name), "%s", name);
	p->parts[p->cur].line = p->line;
}

/* Reader for ini_parse_stream: one line per call, counted; sees headers. */
static char *read_line(char *buf, int size, void *stream)
{
	struct parser *p = stream;
	char name[300];

	switch (vgpu_ini_next(p->f, buf, size, &p->line, name, sizeof(name))) {
	case VGPU_INI_TOO_LONG:
		fail_at(p, p->line, "line too long");
		return NULL;
	case VGPU_INI_EOF:
		return NULL;
	case VGPU_INI_SECTION:
		enter_section(p, name);
		break;
	}
	return buf;
}

/* The leading decimal digits of s (at least one, <= max); *end after them. */
static bool parse_num(const char *s, uint64_t max, uint64_t *v, const char **end)
{
	char *e;
	unsigned long long n;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	n = strtoull(s, &e, 10);
	if (errno || n > max)
		return false;
	*v = n;
	*end = e;
	return true;
}

/* A whole decimal number <= max. */
static bool parse_uint(const char *s, uint64_t max, uint64_t *v)
{
	const char *end;

	return parse_num(s, max, v, &end) && !*end;
}

/* "40G", "512M", "123", "50%" */
static bool parse_memory(const char *s, uint64_t *bytes, uint32_t *pct)
{
	uint64_t v, mul = 1;
	const char *end;

	if (!parse_num(s, UINT64_MAX, &v, &end) || !v)
		return false;
	if (!strcmp(end, "%")) {
		if (v > 100)
			return false;
		*pct = (uint32_t)v;
		*bytes = 0;
		return true;
	}
	switch (*end) {
	case 'k': case 'K': mul = 1ull << 10; end++; break;
	case 'm': case 'M': mul = 1ull << 20; end++; break;
	case 'g': case 'G': mul = 1ull << 30; end++; break;
	case 't': case 'T': mul = 1ull << 40; end++; break;
	}
	if (*end || v > UINT64_MAX / mul)
		return false;
	*bytes = v * mul;
	*pct = 0;
	return true;
}

static void part_key(struct parser *p, struct conf_part *c, const char *key, const char *val)
{
	unsigned int bit = !strcmp(key, "gpu") ? KEY_GPU : !strcmp(key, "memory") ? KEY_MEMORY :
			   !strcmp(key, "compute") ? KEY_COMPUTE :
			   !strcmp(key, "priority") ? KEY_PRIORITY : 0;
	uint64_t v = 0;

	if (!bit) {
		fail_at(p, p->line, "unknown key '%s' in [%s]", key, p->sec_name);
		return;
	}
	if (c->keys & bit)
		fail_at(p, p->line, "key '%s' repeated in [%s]", key, p->sec_name);
	c->keys |= bit;
	switch (bit) {
	case KEY_GPU:
		if (!parse_uint(val, VGPU_PART_MAX_GPUS - 1, &v))
			fail_at(p, p->line, "gpu '%s': expected a GPU index", val);
		c->gpu = (uint32_t)v;
		break;
	case KEY_MEMORY:
		if (!parse_memory(val, &c->mem_bytes, &c->mem_pct))
			fail_at(p, p->line, "memory '%s': expected bytes (K, M, G, T) or 1-100%%",
				val);
		break;
	case KEY_COMPUTE:
		if (!parse_uint(val, 100, &v) || !v)
			fail_at(p, p->line, "compute '%s': expected a percentage 1-100", val);
		c->compute = (uint32_t)v;
		break;
	case KEY_PRIORITY:
		if (!parse_uint(val, VGPU_PART_PRIO_MAX, &v))
			fail_at(p, p->line, "priority '%s': expected 0-%d", val,
				VGPU_PART_PRIO_MAX);
		c->priority = (uint32_t)v;
		break;
	}
}

static int on_key(void *user, const char *section, const char *key, const char *val)
{
	struct parser *p = user;

	/* a header the reader did not see (indented): take it from libinih */
	if (strcmp(section, p->sec_name))
		enter_section(p, section);
	if (!section[0])
		fail_at(p, p->line, "key '%s' outside any section", key);
	else if (p->cur >= 0)
		part_key(p, &p->parts[p->cur], key, val);
	return 1;	/* keep going: the first error is kept */
}

static const char *why(CUresult rc)
{
	switch (rc) {
	case CUDA_ERROR_INVALID_DEVICE: return "the server has no such GPU";
	case CUDA_ERROR_OUT_OF_MEMORY: return "over-commits its GPU's memory or compute";
	default: return "invalid";
	}
}

int vgpu_part_load(struct vgpu_partitions *t, const char *path)
{
	struct parser *p = calloc(1, sizeof(*p));
	int ret = -1, r;

	if (!p)
		return -1;
	p->path = path;
	p->cur = -1;
	p->f = fopen(path, "re");
	if (!p->f) {
		fprintf(stderr, "vgpu-server: %s: %s\n", path, strerror(errno));
		goto out;
	}
	r = ini_parse_stream(read_line, p, on_key, p);
	fclose(p->f);
	if (r > 0)
		fail_at(p, r, "syntax error (expected [partition NAME] or key = value)");
	else if (r < 0 && !p->err_line)
		snprintf(p->err, sizeof(p->err), "%s: cannot parse (%d)", path, r);
	for (uint32_t i = 0; i < p->n && !p->err[0]; i++) {
		const struct conf_part *c = &p->parts[i];

		if ((c->keys & (KEY_GPU | KEY_MEMORY | KEY_COMPUTE)) !=
		    (KEY_GPU | KEY_MEMORY | KEY_COMPUTE))
			fail_at(p, c->line, "partition %s: gpu, memory and compute are required",
				c->name);
	}
	if (p->err[0]) {
		fprintf(stderr, "vgpu-server: %s\n", p->err);
		goto out;
	}
	for (uint32_t i = 0; i < p->n; i++) {
		const struct conf_part *c = &p->parts[i];
		uint32_t id;
		CUresult rc = vgpu_part_create(t, c->name, c->gpu, c->mem_bytes, c->mem_pct,
					       c->compute, c->priority, &id);

		if (rc) {
			fprintf(stderr, "vgpu-server: %s:%d: partition %s: %s\n", path, c->line,
				c->name, why(rc));
			goto out;
		}
	}
	ret = 0;
out:
	free(p);
	return ret;
}
