# bulwark: the two commands of the README, and the jobs behind them.
#   make audit   install dependencies, build, audit this machine
#   make test    install dependencies, build, run every test, again under ASan+UBSan, then the .deb

BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_ARGS ?=

# The Debian 12 packages the build needs (`make audit` installs only these),
# and those the tests, the fuzzers, the package and the benchmark add.
BUILD_PACKAGES = cmake g++ make pkg-config git ca-certificates \
           libfyaml-dev nlohmann-json3-dev libcli11-dev libfmt-dev libssl-dev \
           liblz4-dev zlib1g-dev libgtest-dev libgmock-dev dpkg-dev \
           libre2-dev libnftables-dev libsqlite3-dev libsystemd-dev libpq-dev libhiredis-dev \
           ninja-build
TEST_PACKAGES = libbenchmark-dev strace \
           openssh-server openssh-client sudo systemd procps \
           clang libclang-rt-14-dev debootstrap util-linux \
           libpwquality-tools pamtester logrotate auditd lz4 gzip docker-compose \
           chromium cmark-gfm libxml2-utils python3 python3-yaml \
           file man-db groff-base lintian bash-completion zsh jq \
           fail2ban nftables iptables ipset iproute2 postgresql redis-server nginx \
           sslscan ssh-audit openvpn wireguard-tools strongswan-swanctl ufw \
           strongswan-starter prometheus curl systemd-journal-remote openssl sshpass \
           aide acl attr libcap2-bin ansible lld
# npm (for the SARIF Multitool) from Debian, unless a Node.js with its own npm
# is installed already (NodeSource's nodejs conflicts with Debian's npm).
TEST_PACKAGES += $(if $(shell command -v npm),,nodejs npm)
# A real dockerd for the engine tests (tests/live/dockerd_test.cpp):
# Debian's /usr/sbin/dockerd and /usr/bin/docker.
TEST_PACKAGES += docker.io
PACKAGES = $(BUILD_PACKAGES) $(TEST_PACKAGES)

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# The test targets run with BULWARK_REQUIRE_ORACLES=1: a test whose oracle
# (sshd, postgres, the SARIF Multitool, the Debian root, ...) is missing FAILS
# instead of skipping, and so does a failed debootstrap or npm install. A
# developer's quick `make unit REQUIRE_ORACLES=0` lets them skip.
REQUIRE_ORACLES ?= 1
TEST_ENV = BULWARK_REQUIRE_ORACLES=$(REQUIRE_ORACLES) BULWARK_DEBIAN_ROOT=$(DEBIAN_ROOT) \
           BULWARK_SARIF_MULTITOOL=$(SARIF_TOOL)

# A debootstrapped Debian 12 root, for the tests that compare bulwark's
# verdicts with the root's own programs (`chroot ROOT sshd -T`) and audit a
# real system end to end (broken, then hardened). Built once and cached; the
# stamp names the package list, so a new list rebuilds it. Where it cannot be
# built (no root, no mirror) this fails with REQUIRE_ORACLES=1, and the tests
# that need it skip otherwise.
DEBIAN_ROOT     ?= /var/tmp/bulwark-debian-root-3
DEBIAN_MIRROR   ?= http://deb.debian.org/debian
# nftables: installed on every Debian 12 server (priority important), but not by minbase;
# the fix e2e test enables and loads it.
DEBIAN_INCLUDE  = openssh-server,sudo,auditd,unattended-upgrades,libpam-pwquality,libpam-google-authenticator,apparmor,rsyslog,logrotate,nftables

.PHONY: deps deps-build configure bulwark build audit test unit asan-build asan-test sarif-tool package package-test debian-root fuzz fuzz-smoke bench format tidy tidy-configure tidy-changed clean

# Installs whichever of $(1) are missing. The tests need the servers'
# programs (sshd, postgres, redis-server, nginx), never their system services:
# a policy-rc.d that exists only during the install (Debian's invoke-rc.d
# policy interface) keeps the packages from starting them.
define install_missing
	@missing=$$(for p in $(1); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing:" $$missing; \
	  policy=; if [ ! -e /usr/sbin/policy-rc.d ]; then \
	    printf '#!/bin/sh\nexit 101\n' | $(SUDO) tee /usr/sbin/policy-rc.d >/dev/null && \
	    $(SUDO) chmod 755 /usr/sbin/policy-rc.d && policy=1; fi; \
	  $(SUDO) apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends $$missing; \
	  rc=$$?; [ -z "$$policy" ] || $(SUDO) rm -f /usr/sbin/policy-rc.d; exit $$rc; \
	fi
endef

deps-build:
	$(call install_missing,$(BUILD_PACKAGES))

deps:
	$(call install_missing,$(PACKAGES))

# Built with Debian's hardening flags (as a package build has them), so that
# the .deb comes from this same build (make package) and the tests run on
# what ships. The flags apply when the build directory is first configured.
# -g1 (line tables only): the .deb is stripped, and backtraces keep their
# lines; full -g costs a fifth of the compile time.
RELFLAGS = -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG"
# Ninja when it is installed (a new build directory only: CMake keeps the
# generator a directory was made with). ccache is picked up by CMakeLists.txt.
GENERATOR = $(if $(shell command -v ninja),-G Ninja,)
# CI sets WERROR=ON (.ci/run); a user's newer compiler must not break the build.
WERROR ?= OFF
configure:
	@if [ ! -f $(BUILD)/CMakeCache.txt ] && command -v dpkg-buildflags >/dev/null; then \
	  eval "$$(DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --export=sh)"; \
	  CXXFLAGS="$$CXXFLAGS $$CPPFLAGS" LDFLAGS="$$LDFLAGS" \
	    cmake -S . -B $(BUILD) $(GENERATOR) $(RELFLAGS) -DBULWARK_WERROR=$(WERROR) $(CMAKE_ARGS); \
	else \
	  cmake -S . -B $(BUILD) $(RELFLAGS) -DBULWARK_WERROR=$(WERROR) $(CMAKE_ARGS); \
	fi

# The binary alone: what `make audit` needs (the test suite is `make test`'s).
bulwark: configure
	cmake --build $(BUILD) -j$(JOBS) --target bulwark

build: configure
	cmake --build $(BUILD) -j$(JOBS)

# Exit status 1 means "findings at or above --fail-on", which is the audit
# working; only 2 (usage) and 3 (could not run) fail this target.
audit: deps-build bulwark
	@./$(BUILD)/bulwark audit; rc=$$?; [ $$rc -le 1 ]

debian-root:
	@if [ "$$(cat $(DEBIAN_ROOT)/.bulwark-stamp 2>/dev/null)" != "$(DEBIAN_INCLUDE)" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v debootstrap >/dev/null; then \
	    echo "debootstrap: Debian 12 minbase + $(DEBIAN_INCLUDE) into $(DEBIAN_ROOT)"; \
	    rm -rf $(DEBIAN_ROOT).tmp; \
	    if debootstrap --variant=minbase --include=$(DEBIAN_INCLUDE) bookworm $(DEBIAN_ROOT).tmp \
	         $(DEBIAN_MIRROR) > /tmp/bulwark-debootstrap.log 2>&1; then \
	      echo "$(DEBIAN_INCLUDE)" > $(DEBIAN_ROOT).tmp/.bulwark-stamp; \
	      rm -rf $(DEBIAN_ROOT); mv $(DEBIAN_ROOT).tmp $(DEBIAN_ROOT); \
	    else \
	      rm -rf $(DEBIAN_ROOT).tmp; tail -20 /tmp/bulwark-debootstrap.log; \
	      if [ "$(REQUIRE_ORACLES)" = 1 ]; then \
	        echo "error: debootstrap failed (see /tmp/bulwark-debootstrap.log)"; exit 1; fi; \
	      echo "warning: debootstrap failed (see /tmp/bulwark-debootstrap.log); the tests that need it will skip"; \
	    fi; \
	  else \
	    if [ "$(REQUIRE_ORACLES)" = 1 ]; then \
	      echo "error: not root or no debootstrap: no Debian root for the tests"; exit 1; fi; \
	    echo "warning: not root or no debootstrap; the tests that need a Debian root will skip"; \
	  fi; \
	fi

# The SARIF Multitool (Microsoft's validator, from npm), for the SARIF tests.
SARIF_TOOL ?= /var/tmp/bulwark-sarif-multitool
SARIF_TOOL_VERSION = 5.7.0
sarif-tool:
	@if [ ! -d $(SARIF_TOOL)/node_modules/@microsoft/sarif-multitool ]; then \
	  npm install --no-audit --no-fund --prefix $(SARIF_TOOL) @microsoft/sarif-multitool@$(SARIF_TOOL_VERSION) \
	    || { if [ "$(REQUIRE_ORACLES)" = 1 ]; then \
	           echo "error: npm install of the SARIF Multitool failed"; exit 1; fi; \
	         echo "warning: npm install of the SARIF Multitool failed; the SARIF validation test will skip"; }; \
	fi

unit: build debian-root sarif-tool
	cd $(BUILD) && $(TEST_ENV) ctest --output-on-failure -j$(JOBS)

# -g1: line tables for the sanitizers' backtraces, without the full debug
# information that costs a quarter of the compile time.
asan-build:
	cmake -S . -B $(ASAN_BUILD) $(if $(wildcard $(ASAN_BUILD)/CMakeCache.txt),,$(GENERATOR)) \
	  -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-g1 -DBULWARK_SANITIZE=ON \
	  -DBULWARK_FUZZ_REPLAY=ON -DBULWARK_WERROR=$(WERROR) $(CMAKE_ARGS)
	cmake --build $(ASAN_BUILD) -j$(JOBS)

asan-test: asan-build debian-root sarif-tool
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp $(TEST_ENV) \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j$(JOBS)

# Every test runs once, under ASan+UBSan (the fuzz seeds replayed too); the
# Debian root and the SARIF Multitool download while that build compiles (they
# wait on the network and the disk, the build on the cores). Beside them, at
# nice 19, the .deb: a release build of the binary alone (no tests: they run
# above), then its package test (lintian, dpkg -i, the installed binary, man
# page, completions, purge; about 35 s of which 7 are cpack). That job gets
# the CPU the sanitizer build and the suite leave idle (the suite waits on
# daemons, sockets and timeouts) instead of running after them. No test of
# the suite uses the installed package or the host's dpkg database. Logs:
# $(PKG_BUILD)/make-package.log and $(PKG_BUILD)/package-test.log, printed at
# the end. `make unit` runs the same suite on the release build, for a quick
# local run. Each phase's wall time is printed (CI's log shows its tail), even
# when the suite fails.
test: deps
	@s=$$(date +%s); mkdir -p $(PKG_BUILD); rm -f $(PKG_BUILD)/package-test.log; \
	( nice -n 19 $(MAKE) --no-print-directory package >$(PKG_BUILD)/make-package.log 2>&1 || \
	    { tail -n 40 $(PKG_BUILD)/make-package.log; exit 1; }; \
	  p=$$(date +%s); nice -n 19 $(MAKE) --no-print-directory package-test >$(PKG_BUILD)/package-test.log 2>&1; \
	  prc=$$?; echo "package build $$((p - s)) s, package test $$(($$(date +%s) - p)) s (beside the suite)" >>$(PKG_BUILD)/package-test.log; \
	  exit $$prc ) & pkg=$$!; \
	$(MAKE) -j3 asan-build debian-root sarif-tool || { wait $$pkg; exit 1; }; b=$$(date +%s); \
	$(MAKE) asan-test; rc=$$?; t=$$(date +%s); \
	wait $$pkg; prc=$$?; w=$$(date +%s); \
	[ ! -f $(PKG_BUILD)/package-test.log ] || cat $(PKG_BUILD)/package-test.log; \
	echo "make test: ASan build $$((b - s)) s, ASan suite $$((t - b)) s, then $$((w - t)) s waiting for the package's build and test"; \
	[ $$rc = 0 ] || exit $$rc; \
	exit $$prc

# The .deb, built by CPack from the build above, then: lint, dpkg -i, run the
# installed bulwark, man page and completions, purge, and check nothing is
# left behind.
# The package's own build directory: release flags, Debian's hardening flags,
# no tests (deb_test.sh configures it so when it is new).
PKG_BUILD ?= build-pkg
package: deps
	JOBS=$(JOBS) tests/package/deb_test.sh --build-only $(PKG_BUILD)

package-test: deps
	JOBS=$(JOBS) tests/package/deb_test.sh $(PKG_BUILD)

fuzz: deps
	CXX=clang++ cmake -S . -B build-fuzz -DBULWARK_FUZZ=ON -DBULWARK_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build build-fuzz -j$(JOBS)

# One minute of libFuzzer on each parser harness, seeded from the fixtures.
fuzz-smoke: fuzz
	@for h in build-fuzz/fuzz/fuzz_*; do \
	  echo "== $$h"; mkdir -p build-fuzz/corpus/$$(basename $$h); \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp $$h -max_total_time=60 -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
	      build-fuzz/corpus/$$(basename $$h) fuzz/seeds/$$(basename $$h) || exit 1; \
	done

bench: build
	bench/run.sh --bulwark $(BUILD)/bulwark

format:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp')

# clang-tidy with the compile commands of a build directory of its own,
# configured (never built) without unity batches: a unity build's commands
# name the batches, not the files. GCC-only warning flags (-Wno-restrict) are
# unknown to clang: told to ignore them, not to fail.
TIDY_BUILD ?= build-tidy
TIDY = clang-tidy -p $(TIDY_BUILD) --quiet --warnings-as-errors='*' --extra-arg=-Wno-unknown-warning-option
tidy-configure:
	cmake -S . -B $(TIDY_BUILD) $(RELFLAGS) -DBULWARK_UNITY=OFF -DBULWARK_TESTS=OFF $(CMAKE_ARGS) >/dev/null
tidy: tidy-configure
	$(TIDY) $$(git ls-files 'src/*.cpp')

# The sources changed since TIDY_BASE. CI: the commits of this submission,
# i.e. since the last commit CI accepted, which .ci/tidy-base names (updated
# when a submission is prepared); without it, the last 15 commits. clang-tidy
# costs about 17 CPU-s a file, so the base decides most of its time.
TIDY_BASE ?= $(shell git rev-parse -q --verify "$$(cat .ci/tidy-base 2>/dev/null)^{commit}" \
               || git rev-parse -q --verify HEAD~15 || git rev-list --max-parents=0 HEAD)
tidy-changed: tidy-configure
	@files=$$(git diff --name-only --diff-filter=AM $(TIDY_BASE) HEAD -- 'src/*.cpp'); \
	if [ -n "$$files" ]; then echo "clang-tidy:" $$files; \
	  echo $$files | xargs -n4 -P$(JOBS) $(TIDY); else echo "clang-tidy: no changed sources"; fi

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(PKG_BUILD) $(TIDY_BUILD) build-fuzz
