/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Output: every object is a list of (key, value) fields, printed as one line
 * of "key value" words, or with -j as JSON (a dump as an array of objects).
 */
#ifndef RNATCTL_OUTPUT_H
#define RNATCTL_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

void out_init(bool json);
void out_list_begin(void);
void out_list_end(void);
void out_obj_begin(void);
void out_obj_end(void);
void out_str(const char *key, const char *value);
void out_uint(const char *key, unsigned long long value);
/* A field whose value is several strings (JSON: an array). */
void out_strs_begin(const char *key);
void out_strs_add(const char *value);
void out_strs_end(void);
/* Writes @s as a JSON string literal. */
void json_string(FILE *f, const char *s);

#endif
