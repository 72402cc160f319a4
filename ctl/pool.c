// SPDX-License-Identifier: MIT
/*
 * pool.c - reading the pool file (see pool.h).  As vgpud.conf is read
 * (userd/config.c): libinih gets the file through common/ini_lines.h's
 * reader, which counts lines and sees section headers, so every error says
 * "FILE:LINE: reason" and an empty or repeated section is caught too.
 */
#include "ctl/pool.h"

#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/ini_lines.h"

struct parser {
	struct pool *pool;
	const char *path;
	FILE *f;
	int line;
	int err_line;		/* first error, 0 if none */
	char *err;
	size_t errlen;
	struct pool_server *cur;	/* the section being read, or NULL */
	bool in_section;	/* a header was seen (cur is NULL for a bad one) */
	bool addr_seen;
	char sec_name[80];	/* as libinih reports it */
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
	snprintf(p->err, p->errlen, "%s:%d: %s", p->path, line, msg);
}

const struct pool_server *pool_find(const struct pool *pool, const char *name)
{
	for (unsigned int i = 0; i < pool->n; i++)
		if (!strcmp(pool->srv[i].name, name))
			return &pool->srv[i];
	return NULL;
}

/* The end of a section: it must have said where the server is. */
static void leave_section(struct parser *p)
{
	if (p->cur && !p->addr_seen)
		fail_at(p, p->cur->line, "[server %s] has no 'address = host:port'", p->cur->name);
	p->cur = NULL;
}

/* "server NAME" (one space or more between): make it the current section. */
static void enter_section(struct parser *p, const char *sec)
{
	const char *name = sec + strlen("server");
	const struct pool_server *dup;

	leave_section(p);
	snprintf(p->sec_name, sizeof(p->sec_name), "%s", sec);
	p->in_section = true;
	p->addr_seen = false;
	if (strncmp(sec, "server", 6) || (*name != ' ' && *name != '\t')) {
		fail_at(p, p->line, "unknown section [%s] (expected [server NAME])", sec);
		return;
	}
	name += strspn(name, " \t");
	if (!vgpu_partition_name_ok(name)) {
		fail_at(p, p->line, "server name '%s': expected 1-%d characters of A-Z a-z 0-9 _ . -",
			name, VGPU_PARTITION_NAME_MAX);
		return;
	}
	dup = pool_find(p->pool, name);
	if (dup) {
		fail_at(p, p->line, "server %s repeated (first at line %d)", name, dup->line);
		return;
	}
	if (p->pool->n == POOL_SERVERS_MAX) {
		fail_at(p, p->line, "more than %d servers", POOL_SERVERS_MAX);
		return;
	}
	p->cur = &p->pool->srv[p->pool->n++];
	snprintf(p->cur->name, sizeof(p->cur->name), "%s", name);
	p->cur->line = p->line;
}

static char *read_line(char *buf, int size, void *stream)
{
	struct parser *p = stream;
	char name[80];

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

/* HOST:PORT or [V6]:PORT, the port 1-65535: what vgpu_tcp_connect takes. */
static bool address_ok(const char *a)
{
	const char *colon = strrchr(a, ':');
	unsigned long port = 0;
	const char *d;

	if (!colon || colon == a || !colon[1] || strlen(a) >= POOL_ADDR_MAX)
		return false;
	for (d = colon + 1; *d; d++) {
		if (*d < '0' || *d > '9' || port > 65535)
			return false;
		port = port * 10 + (unsigned long)(*d - '0');
	}
	if (!port || port > 65535)
		return false;
	return !strpbrk(a, " \t");
}

static int on_key(void *user, const char *section, const char *key, const char *val)
{
	struct parser *p = user;

	/* a header the reader did not see (indented): take it from libinih */
	if (strcmp(section, p->sec_name))
		enter_section(p, section);
	if (!p->in_section || !section[0]) {
		fail_at(p, p->line, "key '%s' outside any [server NAME] section", key);
		return 1;
	}
	if (!p->cur)
		return 1;	/* a bad header: reported there */
	if (strcmp(key, "address")) {
		fail_at(p, p->line, "unknown key '%s' in [server %s] (expected address)", key,
			p->cur->name);
		return 1;
	}
	if (p->addr_seen)
		fail_at(p, p->line, "key 'address' repeated");
	p->addr_seen = true;
	if (!address_ok(val))
		fail_at(p, p->line, "address '%s': expected HOST:PORT", val);
	else
		snprintf(p->cur->address, sizeof(p->cur->address), "%s", val);
	return 1;
}

int pool_load(const char *path, struct pool *pool, char *err, size_t errlen)
{
	struct parser p = { .pool = pool, .path = path, .err = err, .errlen = errlen };
	int ret;

	memset(pool, 0, sizeof(*pool));
	if (errlen)
		err[0] = '\0';
	p.f = fopen(path, "re");
	if (!p.f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	ret = ini_parse_stream(read_line, &p, on_key, &p);
	fclose(p.f);
	leave_section(&p);
	if (ret > 0 && (!p.err_line || ret < p.err_line))
		fail_at(&p, ret, "syntax error (expected [server NAME] or key = value)");
	else if (ret < 0 && !p.err_line)
		snprintf(err, errlen, "%s: cannot parse (%d)", path, ret);
	if (ret < 0 || p.err_line)
		return -1;
	if (!pool->n) {
		snprintf(err, errlen, "%s: no [server NAME] section", path);
		return -1;
	}
	return 0;
}
