// SPDX-License-Identifier: MIT
/* ini_lines.c - counted lines and section names for ini_parse_stream (ini_lines.h). */
#include "common/ini_lines.h"

#include <string.h>

int vgpu_ini_next(FILE *f, char *buf, int size, int *line, char *section, size_t cap)
{
	const char *end;
	size_t n, l;

	if (!fgets(buf, size, f))
		return VGPU_INI_EOF;
	(*line)++;
	n = strlen(buf);
	if (n && buf[n - 1] != '\n' && !feof(f))
		return VGPU_INI_TOO_LONG;
	if (buf[0] != '[' || !(end = strchr(buf, ']')) || !cap)
		return VGPU_INI_LINE;
	l = (size_t)(end - buf - 1);
	if (l >= cap)
		l = cap - 1;
	memcpy(section, buf + 1, l);
	section[l] = '\0';
	return VGPU_INI_SECTION;
}
