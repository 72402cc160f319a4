# tests/progs/build.mk - driver-API test programs, built against lib/'s
# libcuda.so.1 (run them with LD_LIBRARY_PATH=$(BUILD)/lib):
#   saxpy_drv [IMAGE]      1M-float saxpy checked against the CPU
#   reduce_drv [IMAGE]     1M-float sum checked against a double CPU sum
#   api_drv [IMAGE]        every other implemented call and its failure paths
#   spin_alloc N [IMAGE]   hold N MiB and launch spin(200) until a call fails
#   memlimit_drv MIB       the device is a partition of MIB MiB (totals, limit)
#   spin_rate MS S [B]     launches of spin(MS) on B blocks per second, for S s
#   fault_drv [IMAGE]      a kernel that faults: CUDA_ERROR_ILLEGAL_ADDRESS, contained
#   multi_drv N [IMAGE]    N devices (of several servers): peer copies, saxpy on each
# Without IMAGE they load a built-in sim image (or, on a real GPU, built-in
# PTX of the same kernels).  `make kernels` (needs nvcc; not part of all)
# builds tests/progs/kernels/*.cu into $(BUILD)/kernels/*.cubin for sm_90.
PROGS_NAMES := saxpy_drv reduce_drv api_drv spin_alloc memlimit_drv spin_rate fault_drv \
	      multi_drv
PROGS := $(PROGS_NAMES:%=$(BUILD)/tests/progs/%)
PROGS_COMMON := $(BUILD)/tests/progs/prog.o

CFLAGS_tests/progs := -I$(CUDA_INC)

$(PROGS): $(BUILD)/tests/progs/%: $(BUILD)/tests/progs/%.o $(PROGS_COMMON) $(LIBCUDA_LINK)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) -L$(BUILD)/lib -lcuda -lm

PROGRAMS += $(PROGS)

.PHONY: progs kernels
progs: $(PROGS)

NVCC ?= $(CUDA_HOME)/bin/nvcc
KERNEL_ARCH ?= sm_90
KERNELS := $(patsubst tests/progs/kernels/%.cu,$(BUILD)/kernels/%.cubin,\
	     $(wildcard tests/progs/kernels/*.cu))

$(BUILD)/kernels/%.cubin: tests/progs/kernels/%.cu
	@mkdir -p $(@D)
	$(NVCC) -cubin -arch=$(KERNEL_ARCH) -o $@ $<

ifneq ($(wildcard $(NVCC)),)
kernels: $(KERNELS)
else
kernels:
	@echo "kernels: no nvcc at $(NVCC) (set CUDA_HOME or NVCC)" >&2; exit 1
endif
