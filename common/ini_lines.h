/* SPDX-License-Identifier: MIT */
/*
 * ini_lines.h - the line reader vgpud's and vgpu-server's configuration
 * parsers hand to libinih's ini_parse_stream: it counts lines (libinih
 * reports none for section headers) and names the section a line opens,
 * so the parsers can say "FILE:LINE: reason" for every error.
 */
#ifndef VGPU_COMMON_INI_LINES_H
#define VGPU_COMMON_INI_LINES_H

#include <stddef.h>
#include <stdio.h>

enum {
	VGPU_INI_TOO_LONG = -1,	/* longer than the buffer: the caller fails */
	VGPU_INI_EOF = 0,
	VGPU_INI_LINE = 1,	/* an ordinary line in buf */
	VGPU_INI_SECTION = 2,	/* "[name]" at column 0: the name in section[] */
};

/*
 * Read the next line of f into buf[size] (as fgets), count it in *line,
 * and when it is a section header copy its name, as libinih takes it
 * (exactly what stands between the brackets, cut to cap - 1 bytes), into
 * section[cap].
 */
int vgpu_ini_next(FILE *f, char *buf, int size, int *line, char *section, size_t cap);

#endif
