/* SPDX-License-Identifier: MIT */
/*
 * sim_ptx.h - the sim backend's built-in kernels (saxpy, reduce_sum,
 * fill_u32, spin, fault) and its sim_counter global as hand-written PTX, with the
 * same names and parameter layouts, so a program or tool that uses them
 * runs unchanged against a real GPU without nvcc (vgpu-smoke, tests/progs).
 */
#ifndef VGPU_SERVER_SIM_PTX_H
#define VGPU_SERVER_SIM_PTX_H

#define VGPU_SIM_KERNELS_PTX \
	".version 7.0\n.target sm_52\n.address_size 64\n" \
	".visible .global .align 4 .u32 sim_counter;\n" \
	".visible .entry saxpy(.param .f32 a, .param .u64 x, .param .u64 y, .param .u32 n)\n" \
	"{\n" \
	"  .reg .pred %p<2>; .reg .f32 %f<5>; .reg .b32 %r<6>; .reg .b64 %rd<8>;\n" \
	"  ld.param.f32 %f1, [a]; ld.param.u64 %rd1, [x]; ld.param.u64 %rd2, [y];\n" \
	"  ld.param.u32 %r2, [n];\n" \
	"  mov.u32 %r3, %ctaid.x; mov.u32 %r4, %ntid.x; mov.u32 %r5, %tid.x;\n" \
	"  mad.lo.s32 %r1, %r3, %r4, %r5;\n" \
	"  setp.ge.s32 %p1, %r1, %r2;\n" \
	"  @%p1 bra DONE;\n" \
	"  cvta.to.global.u64 %rd3, %rd1; cvta.to.global.u64 %rd4, %rd2;\n" \
	"  mul.wide.s32 %rd5, %r1, 4; add.s64 %rd6, %rd3, %rd5; add.s64 %rd7, %rd4, %rd5;\n" \
	"  ld.global.f32 %f2, [%rd6]; ld.global.f32 %f3, [%rd7];\n" \
	"  fma.rn.f32 %f4, %f1, %f2, %f3; st.global.f32 [%rd7], %f4;\n" \
	"DONE:\n  ret;\n}\n" \
	/* grid-stride partial sums, one atomic add per thread */ \
	".visible .entry reduce_sum(.param .u64 in, .param .u64 out, .param .u32 n)\n" \
	"{\n" \
	"  .reg .pred %p<2>; .reg .f32 %f<4>; .reg .b32 %r<8>; .reg .b64 %rd<7>;\n" \
	"  ld.param.u64 %rd1, [in]; ld.param.u64 %rd2, [out]; ld.param.u32 %r2, [n];\n" \
	"  mov.u32 %r3, %ctaid.x; mov.u32 %r4, %ntid.x; mov.u32 %r5, %tid.x;\n" \
	"  mad.lo.s32 %r1, %r3, %r4, %r5;\n" \
	"  mov.u32 %r6, %nctaid.x; mul.lo.s32 %r7, %r6, %r4;\n" \
	"  mov.f32 %f1, 0f00000000;\n" \
	"  cvta.to.global.u64 %rd3, %rd1;\n" \
	"LOOP:\n" \
	"  setp.ge.s32 %p1, %r1, %r2;\n" \
	"  @%p1 bra SUM;\n" \
	"  mul.wide.s32 %rd4, %r1, 4; add.s64 %rd5, %rd3, %rd4;\n" \
	"  ld.global.f32 %f2, [%rd5]; add.f32 %f1, %f1, %f2;\n" \
	"  add.s32 %r1, %r1, %r7;\n" \
	"  bra LOOP;\n" \
	"SUM:\n" \
	"  cvta.to.global.u64 %rd6, %rd2;\n" \
	"  atom.global.add.f32 %f3, [%rd6], %f1;\n" \
	"  ret;\n}\n" \
	".visible .entry fill_u32(.param .u64 p, .param .u32 v, .param .u32 n)\n" \
	"{\n" \
	"  .reg .pred %p<2>; .reg .b32 %r<7>; .reg .b64 %rd<5>;\n" \
	"  ld.param.u64 %rd1, [p]; ld.param.u32 %r1, [v]; ld.param.u32 %r2, [n];\n" \
	"  mov.u32 %r3, %ctaid.x; mov.u32 %r4, %ntid.x; mov.u32 %r5, %tid.x;\n" \
	"  mad.lo.s32 %r6, %r3, %r4, %r5;\n" \
	"  setp.ge.s32 %p1, %r6, %r2;\n" \
	"  @%p1 bra DONE;\n" \
	"  cvta.to.global.u64 %rd2, %rd1;\n" \
	"  mul.wide.s32 %rd3, %r6, 4; add.s64 %rd4, %rd2, %rd3;\n" \
	"  st.global.u32 [%rd4], %r1;\n" \
	"DONE:\n  ret;\n}\n" \
	/* busy-waits ms milliseconds of %globaltimer (clamped to 0..10000, like the sim) */ \
	".visible .entry spin(.param .u32 ms)\n" \
	"{\n" \
	"  .reg .pred %p<2>; .reg .b32 %r<2>; .reg .b64 %rd<6>;\n" \
	"  ld.param.u32 %r1, [ms];\n" \
	"  max.s32 %r1, %r1, 0; min.s32 %r1, %r1, 10000;\n" \
	"  cvt.u64.u32 %rd1, %r1;\n" \
	"  mul.lo.u64 %rd2, %rd1, 1000000;\n" \
	"  mov.u64 %rd3, %globaltimer;\n" \
	"WAIT:\n" \
	"  mov.u64 %rd4, %globaltimer;\n" \
	"  sub.u64 %rd5, %rd4, %rd3;\n" \
	"  setp.lt.u64 %p1, %rd5, %rd2;\n" \
	"  @%p1 bra WAIT;\n" \
	"  ret;\n}\n" \
	/* fault: stores through address 0, an illegal address on any GPU (its p is unused) */ \
	".visible .entry fault(.param .u64 p)\n" \
	"{\n" \
	"  .reg .b32 %r<2>; .reg .b64 %rd<2>;\n" \
	"  mov.u64 %rd1, 0; mov.u32 %r1, 1;\n" \
	"  st.global.u32 [%rd1], %r1;\n" \
	"  ret;\n}\n"

#endif

