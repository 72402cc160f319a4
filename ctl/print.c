// SPDX-License-Identifier: MIT
/*
 * print.c - vgpuctl's output: CUresult names and the LIST table, which
 * looks like nvidia-smi's (memory in MiB, shares in percent).
 */
#include "ctl/ctl.h"

#include <cuda.h>
#include <stdio.h>

static const struct {
	CUresult rc;
	const char *name;
} cu_names[] = {
#define N(x) { x, #x }
	N(CUDA_SUCCESS), N(CUDA_ERROR_INVALID_VALUE), N(CUDA_ERROR_OUT_OF_MEMORY),
	N(CUDA_ERROR_NOT_INITIALIZED), N(CUDA_ERROR_NO_DEVICE), N(CUDA_ERROR_INVALID_DEVICE),
	N(CUDA_ERROR_DEVICE_UNAVAILABLE), N(CUDA_ERROR_INVALID_HANDLE),
	N(CUDA_ERROR_ILLEGAL_STATE), N(CUDA_ERROR_NOT_FOUND), N(CUDA_ERROR_NOT_READY),
	N(CUDA_ERROR_NOT_PERMITTED), N(CUDA_ERROR_NOT_SUPPORTED), N(CUDA_ERROR_UNKNOWN),
#undef N
};

const char *ctl_cu_name(uint32_t status, char *buf, size_t cap)
{
	for (size_t i = 0; i < sizeof(cu_names) / sizeof(cu_names[0]); i++)
		if ((uint32_t)cu_names[i].rc == status)
			return cu_names[i].name;
	snprintf(buf, cap, "CUresult %u", status);
	return buf;
}

void ctl_format_mem(char *buf, size_t cap, const struct ctl_mem *m)
{
	if (m->pct)
		snprintf(buf, cap, "%u%%", m->pct);
	else if (m->bytes & ((1u << 20) - 1))
		snprintf(buf, cap, "%llu bytes", (unsigned long long)m->bytes);
	else
		snprintf(buf, cap, "%llu MiB", ctl_mib(m->bytes));
}

static double pct(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

static void rule(FILE *f, const int *w, int n)
{
	for (int i = 0; i < n; i++)
		fprintf(f, "+%.*s", w[i] + 2, "------------------------------------------");
	fprintf(f, "+\n");
}

const struct vgpu_partition_list_gpu *ctl_find_gpu(const struct vgpu_partition_list *l,
						   uint32_t index)
{
	for (uint32_t i = 0; i < l->ngpu; i++)
		if (l->gpus[i].index == index)
			return &l->gpus[i];
	return NULL;
}

void ctl_print_list(FILE *f, const struct vgpu_partition_list *l)
{
	static const int gw[] = { 3, 30, 10, 10, 7, 7 };
	static const int pw[] = { 3, 31, 3, 16, 16, 5, 4, 8 };

	rule(f, gw, 6);
	fprintf(f, "| %3s | %-30s | %10s | %10s | %7s | %7s |\n", "GPU", "Name", "Total MiB",
		"Free MiB", "Mem", "Compute");
	rule(f, gw, 6);
	for (uint32_t i = 0; i < l->ngpu; i++) {
		const struct vgpu_partition_list_gpu *g = &l->gpus[i];

		fprintf(f, "| %3u | %-30.30s | %10llu | %10llu | %6u%% | %6u%% |\n", g->index,
			g->name, ctl_mib(g->total_mem), ctl_mib(g->free_mem), g->mem_pct_granted,
			g->compute_pct_granted);
	}
	if (!l->ngpu)
		fprintf(f, "| %-82s |\n", "no GPUs (no session has opened the backend yet)");
	rule(f, gw, 6);
	fprintf(f, "  Free: memory granted to no partition; Mem, Compute: granted to partitions\n\n");
	if (!l->npart) {
		fprintf(f, "No partitions.\n");
		return;
	}
	rule(f, pw, 8);
	fprintf(f, "| %3s | %-31s | %3s | %16s | %16s | %5s | %4s | %8s |\n", "ID", "Partition",
		"GPU", "Limit MiB (GPU)", "Used MiB (lim)", "Comp", "Prio", "Sessions");
	rule(f, pw, 8);
	for (uint32_t i = 0; i < l->npart; i++) {
		const struct vgpu_partition_list_entry *p = &l->parts[i];
		const struct vgpu_partition_list_gpu *g = ctl_find_gpu(l, p->gpu);

		fprintf(f, "| %3u | %-31s | %3u | %9llu (%3.0f%%) | %9llu (%3.0f%%) | %4u%% | %4u | %8u |\n",
			p->id, p->name, p->gpu, ctl_mib(p->mem_limit),
			g ? pct(p->mem_limit, g->total_mem) : 0.0, ctl_mib(p->mem_used),
			pct(p->mem_used, p->mem_limit), p->compute_share, p->priority, p->sessions);
	}
	rule(f, pw, 8);
}
