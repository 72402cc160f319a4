# tests/dkms.mk - `dkms add/build` of vgpu.ko against the installed headers
# (what a user of the DKMS package does), then remove it again.
DKMS_VER := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf)
.PHONY: dkmstest
dkmstest: setup
	scripts/dkms-src.sh >/dev/null
	-dkms remove vgpu/$(DKMS_VER) --all >/dev/null 2>&1
	dkms add vgpu/$(DKMS_VER)
	dkms build vgpu/$(DKMS_VER) -k $(notdir $(patsubst %/build,%,$(KDIR)))
	dkms status vgpu/$(DKMS_VER) | grep -q built
	dkms remove vgpu/$(DKMS_VER) --all >/dev/null
	@echo "dkmstest: dkms build of vgpu/$(DKMS_VER) OK"
