# tests/cuda/build.mk - CUDA programs built the way users build them (nvcc's
# defaults: static cudart; one also with -cudart shared), each checking its
# own results and printing one "name: OK ..." or "name: FAIL ..." line:
#   vectoradd        cudaMalloc/cudaMemcpy/<<<>>>/cudaDeviceSynchronize/cudaFree
#   vectoradd_shared the same source, -cudart shared (libcudart.so.13 is
#                    copied next to it for machines without a toolkit)
#   templates        a template for three types, shared-memory reduction,
#                    __constant__/__device__ symbols, cudaMemset, attributes,
#                    occupancy
#   streams          streams, events, cudaStreamWaitEvent, pinned and
#                    registered host memory, cudaMemcpyAsync, cudaMemcpyDefault
#   runtime_misc     properties, PCI id, limits, cudaMallocAsync/FreeAsync, host
#                    functions and callbacks, > 48 KiB dynamic shared memory,
#                    occupancy-chosen block size, cudaLaunchKernelEx
#   pitched          cudaMallocPitch, cudaMemcpy2D (every direction, a
#                    sub-rectangle), cudaMemset2D, cudaMalloc3D + cudaMemcpy3D
#   texture          texture objects: tex1Dfetch on linear memory, bilinear
#                    tex2D with clamping on pitched memory
#   threads          four host threads, each with its own stream, buffers, events
#   threads_ptds     the same, --default-stream per-thread (the _ptds/_ptsz forms)
#   device_reset     work, cudaDeviceReset, work again (three rounds)
#   graphs           stream capture (memset, kernels, DtoD copy, host function)
#                    launched 10 times; a graph built node by node, its
#                    kernel's argument changed with cudaGraphExecKernelNodeSetParams
#   mempool          cudaMallocAsync/FreeAsync from the default pool (release
#                    threshold, used/reserved attributes, trim), a created pool
#                    with cudaMallocFromPoolAsync
#   coop_cluster     cudaLaunchCooperativeKernel with grid.sync(), a too large
#                    cooperative grid refused, clusters of 2 exchanging values
#                    through distributed shared memory (cudaLaunchKernelEx)
#   managed          cudaMallocManaged works, or fails cleanly with
#                    cudaErrorNotSupported (vgpu's documented behaviour)
# and, linked with NVIDIA's libraries (found at run time through a RUNPATH
# of $(CUDA_HOME)/lib64; the GPU machine has the same toolkit):
#   cublas_gemm      cublasSgemm/Dgemm with a transposed operand, Saxpy, Sdot
#   cublaslt_matmul  cublasLtMatmul, FP16 in / FP32 compute, heuristic query
#   cufft_c2c        batched 1D C2C forward/inverse against a CPU DFT, 2D R2C
#   curand_gen       Philox uniforms/normals, device generator against host one
#   cusolver_dn      Sgetrf/Sgetrs (LU) and Dpotrf/Dpotrs (Cholesky) residuals
#   cudnn_conv       cudnnConvolutionForward (NCHW, 3x3, pad 1) against a CPU
#                    convolution, cudnnActivationForward (ReLU)
#   vmm_drv          driver-API cuMemCreate/cuMemAddressReserve/cuMemMap/
#                    cuMemSetAccess of two chunks into one range, used by a
#                    kernel (-lcuda from $(CUDA_HOME)/lib64/stubs)
# check.h holds the FAIL/CHECK macros the programs share.
# `make cuda-progs` (needs nvcc; not part of all) builds them into
# $(BUILD)/cuda/; tests/cuda/run-gpu.sh runs each natively and through vgpu
# on a machine with a GPU and prints the table.
CUDA_TEST_ARCH ?= sm_90
CUDA_TEST_NAMES := vectoradd templates streams runtime_misc pitched threads device_reset \
		   coop_cluster \
		   graphs mempool managed texture
# Programs that link a CUDA library: name, then its libraries (CUDA_TEST_LIBS)
CUDA_LIB_TEST_NAMES := cublas_gemm cublaslt_matmul cufft_c2c curand_gen cusolver_dn \
		       cudnn_conv vmm_drv
CUDA_TEST_BINS := $(CUDA_TEST_NAMES:%=$(BUILD)/cuda/%) $(BUILD)/cuda/vectoradd_shared \
		  $(BUILD)/cuda/threads_ptds $(CUDA_LIB_TEST_NAMES:%=$(BUILD)/cuda/%)
CUDA_LIB_RPATH := -Xlinker -rpath=$(CUDA_HOME)/lib64
$(BUILD)/cuda/cublas_gemm: CUDA_TEST_LIBS = $(CUDA_LIB_RPATH) -lcublas
$(BUILD)/cuda/cublaslt_matmul: CUDA_TEST_LIBS = $(CUDA_LIB_RPATH) -lcublasLt
$(BUILD)/cuda/cufft_c2c: CUDA_TEST_LIBS = $(CUDA_LIB_RPATH) -lcufft
$(BUILD)/cuda/curand_gen: CUDA_TEST_LIBS = $(CUDA_LIB_RPATH) -lcurand
$(BUILD)/cuda/cusolver_dn: CUDA_TEST_LIBS = $(CUDA_LIB_RPATH) -lcusolver
$(BUILD)/cuda/cudnn_conv: CUDA_TEST_LIBS = $(CUDA_LIB_RPATH) -lcudnn
# only the stub to link against: libcuda.so.1 is the driver's, or vgpu's
$(BUILD)/cuda/vmm_drv: CUDA_TEST_LIBS = -L$(CUDA_HOME)/lib64/stubs -lcuda
CUDART_SO := $(firstword $(wildcard $(CUDA_HOME)/lib64/libcudart.so.13 \
				      $(CUDA_HOME)/lib64/libcudart.so.12))

$(BUILD)/cuda/%: tests/cuda/%.cu tests/cuda/check.h
	@mkdir -p $(@D)
	$(NVCC) -arch=$(CUDA_TEST_ARCH) -o $@ $< $(CUDA_TEST_LIBS)

$(BUILD)/cuda/%_shared: tests/cuda/%.cu tests/cuda/check.h
	@mkdir -p $(@D)
	$(NVCC) -arch=$(CUDA_TEST_ARCH) -cudart shared -o $@ $<

$(BUILD)/cuda/%_ptds: tests/cuda/%.cu tests/cuda/check.h
	@mkdir -p $(@D)
	$(NVCC) -arch=$(CUDA_TEST_ARCH) --default-stream per-thread -o $@ $<

CUDART_COPY := $(if $(CUDART_SO),$(BUILD)/cuda/$(notdir $(CUDART_SO)))

$(CUDART_COPY): $(CUDART_SO)
	@mkdir -p $(@D)
	cp -L $< $@

.PHONY: cuda-progs
ifneq ($(wildcard $(NVCC)),)
cuda-progs: $(CUDA_TEST_BINS) $(CUDART_COPY)
else
cuda-progs:
	@echo "cuda-progs: no nvcc at $(NVCC) (set CUDA_HOME or NVCC)" >&2; exit 1
endif
