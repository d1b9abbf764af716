# The user's interface to etcdlab. Everything real happens in CMake (CMakePresets.json) and the
# scripts under tools/; this file only names the entry points.
#
#   make deps                 install the Debian packages (prints the sudo line if not root)
#   make                      build everything into build/ (programs in build/bin)
#   make check                deps, build, every test (C++, ASan, Python), grader self-check
#   make lab1 ... make lab5   one lab's tests against your code   [TEST=Suite.Name] [OWN=1,2,3]
#   make grade LAB=n          grade a lab as the instructor would  [SUBMISSION=dir]
#   make cluster              a 3-member cluster on loopback (Ctrl-C stops it)  [OWN=1,2,3]
#   make check-tls            the e2e suite with every LocalCluster over TLS (ETCDLAB_TLS=1)
#   make bench                benchmarks (figures, never pass/fail)
#   make bench-smoke          the main rows against etcd 3.4, about a minute (figures only)
#   make bench-scale          etcdlab and etcd 3.4 at 100k, 1M, 5M keys (hours; figures only)  [SIZES=20000,50000]
#   make fuzz                 libFuzzer targets, 60 s each  [FUZZ_SECONDS=n | FUZZ_RUNS=n] [FUZZ_TARGETS="a b"]
#   make mutants LAB=n        mutation run of lab n's tests (long; resumable)  [SAMPLE=k]
#   make release OUT=dir      the student release in dir (no solution/)  [LABS=1,2] [UPDATE=1]
PY := /usr/bin/python3

.PHONY: all build deps check check-tls cluster lab1 lab2 lab3 lab4 lab5 grade bench bench-smoke bench-scale fuzz mutants release clean

all: build

build:
	@test -f build/build.ninja || cmake --preset default
	cmake --build --preset default

deps:
	@tools/deps.sh

check:
	@tools/check.sh

# Clients, peers and the tests' own clients over mutual TLS, with certificates made at run time.
check-tls: build
	ETCDLAB_TLS=1 ETCDLAB_E2E_REQUIRED=1 PYTHONPATH=build/python $(PY) -m pytest -q -p no:cacheprovider --timeout 300 python/tests/e2e

lab1 lab2 lab3 lab4 lab5:
	@tools/lab.sh $(subst lab,,$@) "$(OWN)" "$(TEST)"

grade:
	@test -n "$(LAB)" || { echo "usage: make grade LAB=n [SUBMISSION=dir]"; exit 2; }
	$(PY) grader/grade --lab $(LAB) $(if $(SUBMISSION),--submission $(SUBMISSION))

cluster:
	@tools/cluster.sh "$(OWN)"

bench: build
	@tools/bench.sh

bench-smoke: build
	bench/compare-etcd --smoke --no-build

bench-scale: build
	$(PY) bench/scale.py --no-build $(if $(SIZES),--sizes $(SIZES))

fuzz:
	@tools/fuzz.sh

mutants:
	@test -n "$(LAB)" || { echo "usage: make mutants LAB=n [SAMPLE=k]"; exit 2; }
	$(PY) tools/mutants.py --lab $(LAB) $(if $(SAMPLE),--sample $(SAMPLE))

release:
	@test -n "$(OUT)" || { echo "usage: make release OUT=dir [LABS=1,2] [UPDATE=1]"; exit 2; }
	$(PY) grader/release $(OUT) $(if $(LABS),--labs $(LABS)) $(if $(UPDATE),--update)

clean:
	rm -rf build build-asan build-release build-release-libs build-release-test build-release-long build-fuzz build-mutants .grade
