# Installation, Debian packages and the embedding example; included by the
# top-level Makefile, which defines B, VERSION, SOFILE, SONAME and LDLIBS.
#
#   make install [PREFIX=/usr/local] [DESTDIR=...]   tools, library, headers,
#        libazbuse.pc, man pages, DKMS tree, systemd unit, udev rule, the
#        Rust crate's source (as Debian's librust-*-dev packages ship one)
#   make uninstall [PREFIX=...] [DESTDIR=...]        remove exactly that
#   make deb        Debian packages in build/deb/ (debian/, dpkg-buildpackage)
#   make examples   examples/ built through pkg-config against build/
#
# Where the daemons look decides some paths, not PREFIX: DKMS takes its
# sources from /usr/src, systemd and udev read /etc; udev reads no
# /usr/local, so a PREFIX other than /usr puts the rule in /etc/udev.

PREFIX		?= /usr/local
SBINDIR		?= $(PREFIX)/sbin
LIBDIR		?= $(PREFIX)/lib
LIBEXECDIR	?= $(PREFIX)/libexec
INCLUDEDIR	?= $(PREFIX)/include
MANDIR		?= $(PREFIX)/share/man
DOCDIR		?= $(PREFIX)/share/doc/azbuse
PKGCONFIGDIR	?= $(LIBDIR)/pkgconfig
SYSCONFDIR	?= /etc
SYSTEMDUNITDIR	?= $(PREFIX)/lib/systemd/system
UDEVRULESDIR	?= $(if $(filter /usr,$(PREFIX)),/usr/lib/udev/rules.d,/etc/udev/rules.d)
DKMSDIR		?= /usr/src
INSTALL		?= install
CRATEDIR	?= $(PREFIX)/share/cargo/registry/azbuse-$(VERSION)
BASHCOMPDIR	?= $(PREFIX)/share/bash-completion/completions

MAN_SRC		:= $(wildcard man/*.[348])
MAN_OUT		:= $(patsubst man/%,$(B)/man/%,$(MAN_SRC))
DKMS_NAME	:= azbuse-$(VERSION)
DKMS_SRC	:= $(wildcard kmod/*.c kmod/*.h) kmod/Kbuild include/uapi/linux/azbuse.h
DKMS_TREE	:= $(B)/dkms/$(DKMS_NAME)
# Generated per install: they name the installed paths.
GEN		:= $(B)/packaging
EXAMPLE_SRC	:= $(wildcard examples/*.c examples/*.h) examples/Makefile examples/README.md
# The crate's files, relative to bindings/rust (no Cargo.lock, no target/).
CRATE_SRC	:= Cargo.toml build.rs README.md \
	$(patsubst bindings/rust/%,%,$(shell find bindings/rust/src bindings/rust/examples -name '*.rs'))

# Substitutes the @NAME@ placeholders of a packaging template.
azb_subst = sed -e 's|@VERSION@|$(VERSION)|g' -e 's|@PREFIX@|$(PREFIX)|g' \
	-e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
	-e 's|@LIBEXECDIR@|$(LIBEXECDIR)|g' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' \
	-e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' -e 's|@LIBS_PRIVATE@|$(strip $(LDLIBS))|g'

.PHONY: man dkms-tree examples install uninstall deb FORCE

man: $(MAN_OUT)

$(B)/man/%: man/% include/azbuse.h
	@mkdir -p $(dir $@)
	$(azb_subst) $< >$@

# The tree DKMS builds from: what kmod/Kbuild needs, and dkms.conf.
dkms-tree: $(DKMS_TREE)/dkms.conf

$(DKMS_TREE)/dkms.conf: packaging/dkms.conf.in $(DKMS_SRC)
	rm -rf $(DKMS_TREE)
	mkdir -p $(DKMS_TREE)/include/uapi/linux
	cp kmod/*.c kmod/*.h kmod/Kbuild $(DKMS_TREE)/
	cp include/uapi/linux/azbuse.h $(DKMS_TREE)/include/uapi/linux/
	printf '#define AZBK_VERSION "%s"\n' "$(VERSION)" >$(DKMS_TREE)/version.h
	$(azb_subst) $< >$@

# In-tree builds of embedders (examples/) link build/lib and find it at run
# time through the rpath; installed copies use libazbuse.pc.
$(B)/lib/pkgconfig/libazbuse-uninstalled.pc: packaging/libazbuse.pc.in include/azbuse.h packaging/install.mk
	@mkdir -p $(dir $@)
	sed -e 's|@PREFIX@|$(CURDIR)|g' -e 's|@LIBDIR@|$(CURDIR)/$(B)/lib|g' \
	    -e 's|@INCLUDEDIR@|$(CURDIR)/include|' \
	    -e 's|@VERSION@|$(VERSION)|g' -e 's|@LIBS_PRIVATE@|$(strip $(LDLIBS))|g' \
	    -e 's|^Libs: -L$${libdir}|& -Wl,-rpath,$${libdir}|' \
	    -e 's|^Cflags: -I$${includedir}|& -I$${includedir}/uapi|' $< >$@

examples: lib $(B)/lib/pkgconfig/libazbuse-uninstalled.pc
	PKG_CONFIG_PATH=$(CURDIR)/$(B)/lib/pkgconfig \
		$(MAKE) -C examples O=$(CURDIR)/$(B)/examples

# Always regenerated: the paths come from this make's variables.
$(GEN)/%: packaging/%.in FORCE
	@mkdir -p $(dir $@)
	$(azb_subst) $< >$@

install: lib tools man dkms-tree $(GEN)/libazbuse.pc $(GEN)/azbuse@.service $(GEN)/azbuse-service
	$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(LIBDIR) \
		$(DESTDIR)$(LIBEXECDIR)/azbuse $(DESTDIR)$(INCLUDEDIR)/linux \
		$(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(MANDIR)/man3 \
		$(DESTDIR)$(MANDIR)/man4 $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(SYSCONFDIR)/azbuse \
		$(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(UDEVRULESDIR) \
		$(DESTDIR)$(DKMSDIR)
	$(INSTALL) -m 0755 $(TOOLS) $(DESTDIR)$(SBINDIR)/
	$(INSTALL) -m 0755 $(GEN)/azbuse-service $(DESTDIR)$(LIBEXECDIR)/azbuse/
	$(INSTALL) -m 0755 $(B)/lib/$(SOFILE) $(DESTDIR)$(LIBDIR)/
	ln -sf $(SOFILE) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libazbuse.so
	$(INSTALL) -m 0644 $(B)/lib/libazbuse.a $(DESTDIR)$(LIBDIR)/
	$(INSTALL) -d $(DESTDIR)$(LIBDIR)/azbuse/engines
	$(INSTALL) -m 0644 $(PLUGINS) $(DESTDIR)$(LIBDIR)/azbuse/engines/
	$(INSTALL) -m 0644 include/azbuse.h $(DESTDIR)$(INCLUDEDIR)/
	$(INSTALL) -m 0644 include/uapi/linux/azbuse.h $(DESTDIR)$(INCLUDEDIR)/linux/
	$(INSTALL) -m 0644 $(GEN)/libazbuse.pc $(DESTDIR)$(PKGCONFIGDIR)/
	$(INSTALL) -m 0644 $(filter %.3,$(MAN_OUT)) $(DESTDIR)$(MANDIR)/man3/
	$(INSTALL) -m 0644 $(filter %.4,$(MAN_OUT)) $(DESTDIR)$(MANDIR)/man4/
	$(INSTALL) -m 0644 $(filter %.8,$(MAN_OUT)) $(DESTDIR)$(MANDIR)/man8/
	$(INSTALL) -m 0644 $(EXAMPLE_SRC) $(DESTDIR)$(DOCDIR)/examples/
	$(INSTALL) -m 0644 packaging/azbuse.conf.example $(DESTDIR)$(DOCDIR)/
	$(INSTALL) -m 0644 $(GEN)/azbuse@.service packaging/azbuse.target $(DESTDIR)$(SYSTEMDUNITDIR)/
	$(INSTALL) -m 0644 packaging/60-azbuse.rules $(DESTDIR)$(UDEVRULESDIR)/
	$(INSTALL) -d $(DESTDIR)$(BASHCOMPDIR)
	$(INSTALL) -m 0644 packaging/bash-completion/azbusectl packaging/bash-completion/azbuse-run \
		$(DESTDIR)$(BASHCOMPDIR)/
	rm -rf $(DESTDIR)$(DKMSDIR)/$(DKMS_NAME)
	cp -R $(DKMS_TREE) $(DESTDIR)$(DKMSDIR)/
	rm -rf $(DESTDIR)$(CRATEDIR)
	for f in $(CRATE_SRC); do \
		$(INSTALL) -D -m 0644 bindings/rust/$$f $(DESTDIR)$(CRATEDIR)/$$f || exit 1; \
	done
	# What Debian's crate packages carry: cargo checks no file of it.
	printf '{"package":"","files":{}}\n' >$(DESTDIR)$(CRATEDIR)/.cargo-checksum.json
	@if [ -z "$(DESTDIR)" ]; then \
		ldconfig; \
		echo "installed; build the module with: dkms install $(DKMS_NAME:azbuse-%=azbuse/%)"; \
	fi

uninstall:
	@if [ -z "$(DESTDIR)" ] && command -v dkms >/dev/null && \
	    [ -n "$$(dkms status -m azbuse -v $(VERSION) 2>/dev/null)" ]; then \
		echo "dkms remove -m azbuse -v $(VERSION) --all"; \
		dkms remove -m azbuse -v $(VERSION) --all; \
	fi
	rm -f $(addprefix $(DESTDIR)$(SBINDIR)/,$(notdir $(TOOLS)))
	rm -f $(DESTDIR)$(LIBEXECDIR)/azbuse/azbuse-service
	rm -f $(addprefix $(DESTDIR)$(LIBDIR)/,$(SOFILE) $(SONAME) libazbuse.so libazbuse.a)
	rm -f $(addprefix $(DESTDIR)$(LIBDIR)/azbuse/engines/,$(notdir $(PLUGINS)))
	-rmdir $(DESTDIR)$(LIBDIR)/azbuse/engines $(DESTDIR)$(LIBDIR)/azbuse 2>/dev/null
	rm -f $(DESTDIR)$(INCLUDEDIR)/azbuse.h $(DESTDIR)$(INCLUDEDIR)/linux/azbuse.h
	rm -f $(DESTDIR)$(PKGCONFIGDIR)/libazbuse.pc
	rm -f $(foreach m,$(MAN_SRC),$(DESTDIR)$(MANDIR)/man$(subst .,,$(suffix $(m)))/$(notdir $(m)))
	rm -f $(addprefix $(DESTDIR)$(DOCDIR)/examples/,$(notdir $(EXAMPLE_SRC)))
	rm -f $(DESTDIR)$(DOCDIR)/azbuse.conf.example
	rm -f $(DESTDIR)$(SYSTEMDUNITDIR)/azbuse@.service $(DESTDIR)$(SYSTEMDUNITDIR)/azbuse.target
	rm -f $(DESTDIR)$(UDEVRULESDIR)/60-azbuse.rules
	rm -f $(DESTDIR)$(BASHCOMPDIR)/azbusectl $(DESTDIR)$(BASHCOMPDIR)/azbuse-run
	-rmdir $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(PREFIX)/share/bash-completion 2>/dev/null
	rm -rf $(DESTDIR)$(DKMSDIR)/$(DKMS_NAME)
	rm -rf $(DESTDIR)$(CRATEDIR)
	-rmdir $(DESTDIR)$(PREFIX)/share/cargo/registry $(DESTDIR)$(PREFIX)/share/cargo 2>/dev/null
	-rmdir $(DESTDIR)$(LIBEXECDIR)/azbuse $(DESTDIR)$(INCLUDEDIR)/linux \
		$(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(DOCDIR) \
		$(DESTDIR)$(SYSCONFDIR)/azbuse 2>/dev/null
	@if [ -z "$(DESTDIR)" ]; then ldconfig; fi

# Debian packages built the way Debian builds them (debian/: debhelper,
# dh-dkms, dpkg-buildflags hardening): dpkg-buildpackage on a copy of the
# tree under build/deb/src, so nothing is written beside the checkout; the
# packages land in build/deb/.
deb:
	rm -rf $(B)/deb
	mkdir -p $(B)/deb/src/azbuse-$(VERSION)
	tar -c --exclude=./build --exclude=./.git --exclude=./bindings/rust/target . | \
		tar -x -C $(B)/deb/src/azbuse-$(VERSION)
	cd $(B)/deb/src/azbuse-$(VERSION) && dpkg-buildpackage -us -uc -b >../build.log 2>&1 || \
		{ tail -n 40 $(B)/deb/src/build.log; exit 1; }
	mv $(B)/deb/src/*.deb $(B)/deb/src/*.changes $(B)/deb/src/*.buildinfo $(B)/deb/
	@ls $(B)/deb/*.deb

FORCE:
