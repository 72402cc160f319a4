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
#   threads          four host threads, each with its own stream, buffers, events
#   threads_ptds     the same, --default-stream per-thread (the _ptds/_ptsz forms)
#   device_reset     work, cudaDeviceReset, work again (three rounds)
# check.h holds the FAIL/CHECK macros the programs share.
# `make cuda-progs` (needs nvcc; not part of all) builds them into
# $(BUILD)/cuda/; tests/cuda/run-gpu.sh runs each natively and through vgpu
# on a machine with a GPU and prints the table.
CUDA_TEST_ARCH ?= sm_90
CUDA_TEST_NAMES := vectoradd templates streams runtime_misc pitched threads device_reset
CUDA_TEST_BINS := $(CUDA_TEST_NAMES:%=$(BUILD)/cuda/%) $(BUILD)/cuda/vectoradd_shared \
		  $(BUILD)/cuda/threads_ptds
CUDART_SO := $(firstword $(wildcard $(CUDA_HOME)/lib64/libcudart.so.13 \
				      $(CUDA_HOME)/lib64/libcudart.so.12))

$(BUILD)/cuda/%: tests/cuda/%.cu tests/cuda/check.h
	@mkdir -p $(@D)
	$(NVCC) -arch=$(CUDA_TEST_ARCH) -o $@ $<

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
