# nvml/build.mk: rules of this component (see top Makefile)
# vgpu's NVML: $(BUILD)/nvml/libnvidia-ml.so.1 (+ libnvidia-ml.so), the common
# NVML queries answered through the CUDA driver API of the libcuda.so.1 that
# nvmlInit dlopens (vgpu's, in a vgpu deployment; no NVIDIA code is linked).
# Every other NVML entry point (nvml/symbols.txt, plus the toolkit's stub
# libnvidia-ml.so where it has one) is a generated stub answering
# NVML_ERROR_NOT_SUPPORTED (nvml/gen_stubs.py).  docs/NVML.md.
#
# Types and prototypes: the toolkit's nvml.h where it has one (the compiler
# then checks nvml.c against it), else nvml/nvml_abi.h's own declarations
# (CUDA 13.0's toolkit ships no nvml.h).  Only cuda.h is required; without it
# the component is skipped.
NVML_CUDA_H := $(wildcard $(CUDA_INC)/cuda.h)
NVML_H := $(wildcard $(CUDA_INC)/nvml.h)
PYTHON ?= python3
NVML_STUB ?= $(wildcard $(CUDA_HOME)/lib64/stubs/libnvidia-ml.so)

ifneq ($(NVML_CUDA_H),)
NVML_OBJS := $(BUILD)/nvml/nvml.o
NVML_GEN_OBJ := $(BUILD)/nvml/stubs_gen.o
LIBNVML := $(BUILD)/nvml/libnvidia-ml.so.1
LIBNVML_LINK := $(BUILD)/nvml/libnvidia-ml.so
# every exported name, for tests/unit/test_nvml
LIBNVML_SYMBOLS := $(BUILD)/nvml/symbols_all.txt

CFLAGS_nvml := -I$(CUDA_INC) -fPIC $(if $(NVML_H),-DVGPU_HAVE_NVML_H)

$(BUILD)/nvml/stubs_gen.c: nvml/gen_stubs.py nvml/symbols.txt $(NVML_OBJS) $(NVML_STUB)
	@mkdir -p $(@D)
	$(PYTHON) nvml/gen_stubs.py --list nvml/symbols.txt $(if $(NVML_STUB),--stub $(NVML_STUB)) \
		--out $@ --list-all $(LIBNVML_SYMBOLS) $(NVML_OBJS)

$(LIBNVML_SYMBOLS): $(BUILD)/nvml/stubs_gen.c

$(NVML_GEN_OBJ): %.o: %.c
	$(CC) $(CFLAGS) -fPIC -c -o $@ $<

$(LIBNVML): $(NVML_OBJS) $(NVML_GEN_OBJ) nvml/libnvidia-ml.map
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -shared -Wl,-soname,libnvidia-ml.so.1 \
		-Wl,--version-script=nvml/libnvidia-ml.map -Wl,-Bsymbolic-functions -Wl,-z,defs \
		-o $@ $(NVML_OBJS) $(NVML_GEN_OBJ) -ldl -lpthread

$(LIBNVML_LINK): $(LIBNVML)
	ln -sf libnvidia-ml.so.1 $@

LIBRARIES += $(LIBNVML) $(LIBNVML_LINK)

.PHONY: nvml
nvml: $(LIBNVML) $(LIBNVML_LINK)
else
$(info nvml: no cuda.h under $(CUDA_INC); libnvidia-ml.so.1 is not built)
endif
