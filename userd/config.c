// SPDX-License-Identifier: MIT
/*
 * config.c - vgpud.conf through libinih, with errors that name file:line.
 *
 * libinih calls the handler once per "key = value" without a line number
 * (the system library is built without INI_HANDLER_LINENO), so the file is
 * fed to ini_parse_stream() through a reader that counts lines; the reader
 * also sees section headers, so an unknown or repeated section is caught
 * even when it has no keys.
 */
#include "userd/config.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ini_lines.h"
#include "common/log.h"
#include "common/proto.h"

enum { SEC_NONE = -3, SEC_BAD = -2, SEC_DAEMON = -1 };	/* or a device index */

/* bits of vgpud_dev.keys_seen */
#define KEY_SERVER	(1u << 0)
#define KEY_GPU		(1u << 1)
#define KEY_PARTITION	(1u << 2)

struct parser {
	struct vgpud_config *cfg;
	const char *path;
	FILE *f;
	int line;		/* line being parsed (1-based) */
	int err_line;		/* first error, 0 if none */
	char *err;
	size_t errlen;
	int sec;		/* SEC_* or a device index */
	char sec_name[64];	/* as libinih reports it */
	int daemon_line;	/* [daemon] seen at this line */
	bool log_level_seen;
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

void vgpud_config_init(struct vgpud_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->log_level = VGPU_LOG_INFO;
}

/* Decimal without sign, leading zeros or spaces; 0 or -1. */
static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	if (!isdigit((unsigned char)s[0]) || (s[0] == '0' && s[1]))
		return -1;
	errno = 0;
	*out = strtoul(s, &end, 10);
	if (errno || *end || *out > max)
		return -1;
	return 0;
}

static bool host_char_ok(char c, bool v6)
{
	if (v6)		/* hex groups, an embedded IPv4 address, a %zone */
		return isalnum((unsigned char)c) || c == ':' || c == '.' || c == '%';
	return isalnum((unsigned char)c) || c == '-' || c == '.' || c == '_';
}

int vgpud_parse_server(const char *s, struct vgpud_dev *d, const char **why)
{
	const char *host = s, *port = NULL, *hend;
	bool v6 = false;
	unsigned long pn = VGPU_PROTO_DEFAULT_PORT;
	size_t hl;
	int n;

	if (s[0] == '[') {
		v6 = true;
		host = s + 1;
		hend = strchr(host, ']');
		if (!hend) {
			*why = "missing ']' after an IPv6 address";
			return -EINVAL;
		}
		if (hend[1] == ':')
			port = hend + 2;
		else if (hend[1]) {
			*why = "expected ':port' after ']'";
			return -EINVAL;
		}
	} else {
		hend = strchr(s, ':');
		if (hend) {
			port = hend + 1;
			if (strchr(port, ':')) {
				*why = "IPv6 addresses need brackets: [addr]:port";
				return -EINVAL;
			}
		} else {
			hend = s + strlen(s);
		}
	}
	hl = hend - host;
	if (hl == 0) {
		*why = "empty host";
		return -EINVAL;
	}
	if (hl >= sizeof(d->host)) {
		*why = "host name too long";
		return -EINVAL;
	}
	for (size_t i = 0; i < hl; i++) {
		if (!host_char_ok(host[i], v6)) {
			*why = "bad character in host";
			return -EINVAL;
		}
	}
	if ((port && parse_uint(port, 65535, &pn)) || pn == 0) {
		*why = "port must be a number from 1 to 65535";
		return -EINVAL;
	}
	memcpy(d->host, host, hl);
	d->host[hl] = '\0';
	snprintf(d->port, sizeof(d->port), "%u", (unsigned int)pn);
	n = snprintf(d->server, sizeof(d->server), v6 ? "[%s]:%s" : "%s:%s", d->host, d->port);
	if (n < 0 || (size_t)n >= sizeof(d->server)) {
		*why = "server address longer than 63 characters";
		return -EINVAL;
	}
	return 0;
}

static int parse_level(const char *v)
{
	if (!strcmp(v, "error") || !strcmp(v, "err"))
		return VGPU_LOG_ERR;
	if (!strcmp(v, "warn"))
		return VGPU_LOG_WARN;
	if (!strcmp(v, "info"))
		return VGPU_LOG_INFO;
	if (!strcmp(v, "debug"))
		return VGPU_LOG_DEBUG;
	return -1;
}

/* "daemon" -> SEC_DAEMON, "vgpuN" -> N, else SEC_BAD. */
static int section_id(const char *name)
{
	unsigned long n;

	if (!strcmp(name, "daemon"))
		return SEC_DAEMON;
	if (strncmp(name, "vgpu", 4) || parse_uint(name + 4, VGPU_MAX_DEVICES - 1, &n))
		return SEC_BAD;
	return (int)n;
}

/* A section header: validate it and make it the current one. */
static void enter_section(struct parser *p, const char *name)
{
	int id = section_id(name);

	snprintf(p->sec_name, sizeof(p->sec_name), "%s", name);
	p->sec = id;
	if (id == SEC_BAD) {
		fail_at(p, p->line, "unknown section [%s] (expected [daemon] or [vgpu0]..[vgpu%d])",
			name, VGPU_MAX_DEVICES - 1);
	} else if (id == SEC_DAEMON) {
		if (p->daemon_line)
			fail_at(p, p->line, "section [daemon] repeated (first at line %d)",
				p->daemon_line);
		p->daemon_line = p->line;
	} else {
		struct vgpud_dev *d = &p->cfg->dev[id];

		if (d->present)
			fail_at(p, p->line, "section [%s] repeated (first at line %d)", name, d->line);
		d->present = true;
		d->line = p->line;
	}
}

/* Reader for ini_parse_stream: one line per call, counted; sees headers. */
static char *read_line(char *buf, int size, void *stream)
{
	struct parser *p = stream;
	char name[64];

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

static void daemon_key(struct parser *p, const char *key, const char *val)
{
	int lv;

	if (strcmp(key, "log_level")) {
		fail_at(p, p->line, "unknown key '%s' in [daemon]", key);
		return;
	}
	if (p->log_level_seen)
		fail_at(p, p->line, "key 'log_level' repeated");
	p->log_level_seen = true;
	lv = parse_level(val);
	if (lv < 0)
		fail_at(p, p->line, "log_level '%s': expected error, warn, info or debug", val);
	else
		p->cfg->log_level = lv;
}

static void dev_key(struct parser *p, struct vgpud_dev *d, const char *key, const char *val)
{
	unsigned int bit = !strcmp(key, "server") ? KEY_SERVER :
			   !strcmp(key, "gpu") ? KEY_GPU :
			   !strcmp(key, "partition") ? KEY_PARTITION : 0;
	const char *why = NULL;
	unsigned long n;

	if (!bit) {
		fail_at(p, p->line, "unknown key '%s' in [%s]", key, p->sec_name);
		return;
	}
	if (d->keys_seen & bit)
		fail_at(p, p->line, "key '%s' repeated in [%s]", key, p->sec_name);
	d->keys_seen |= bit;
	if (bit == KEY_SERVER) {
		if (vgpud_parse_server(val, d, &why))
			fail_at(p, p->line, "server '%s': %s", val, why);
	} else if (bit == KEY_PARTITION) {
		if (!vgpu_partition_name_ok(val))
			fail_at(p, p->line, "partition '%s': expected 1-%d characters of A-Z a-z 0-9 _ . -",
				val, VGPU_PARTITION_NAME_MAX);
		else
			snprintf(d->partition, sizeof(d->partition), "%s", val);
	} else if (!strcmp(val, "all")) {
		d->gpu = VGPU_GPU_ALL;
	} else if (parse_uint(val, VGPU_GPU_ALL - 1, &n)) {
		fail_at(p, p->line, "gpu '%s': expected a GPU index or 'all'", val);
	} else {
		d->gpu = (uint32_t)n;
	}
}

static int on_key(void *user, const char *section, const char *key, const char *val)
{
	struct parser *p = user;

	/* a header the reader did not see (indented): take it from libinih */
	if (strcmp(section, p->sec_name))
		enter_section(p, section);
	if (p->sec == SEC_NONE || !section[0])
		fail_at(p, p->line, "key '%s' outside any section", key);
	else if (p->sec == SEC_DAEMON)
		daemon_key(p, key, val);
	else if (p->sec >= 0)
		dev_key(p, &p->cfg->dev[p->sec], key, val);
	/* SEC_BAD: reported at its header */
	return 1;
}

int vgpud_config_load(const char *path, struct vgpud_config *cfg, char *err, size_t errlen)
{
	struct parser p = {
		.cfg = cfg, .path = path, .err = err, .errlen = errlen, .sec = SEC_NONE,
	};
	int ret;

	vgpud_config_init(cfg);
	if (errlen)
		err[0] = '\0';
	p.f = fopen(path, "re");
	if (!p.f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	ret = ini_parse_stream(read_line, &p, on_key, &p);
	fclose(p.f);
	if (ret > 0 && (!p.err_line || ret < p.err_line))
		fail_at(&p, ret, "syntax error (expected [section] or key = value)");
	else if (ret < 0 && !p.err_line)
		snprintf(err, errlen, "%s: cannot parse (%d)", path, ret);
	if (ret < 0 || p.err_line)
		return -1;
	for (int i = 0; i < VGPU_MAX_DEVICES; i++) {
		struct vgpud_dev *d = &cfg->dev[i];

		if (!d->present)
			continue;
		if (!(d->keys_seen & KEY_SERVER)) {
			fail_at(&p, d->line, "[vgpu%d] has no 'server = host:port'", i);
			return -1;
		}
		/* a partition names its GPU: without 'gpu =' the server takes that one */
		if (d->partition[0] && !(d->keys_seen & KEY_GPU))
			d->gpu = VGPU_GPU_OF_PARTITION;
		cfg->ndevs++;
	}
	return 0;
}
