# lidarmill front door. `make test` is what CI runs (see .ci/run).
JOBS ?= $(shell nproc)
RELEASE_DIR := build/release
ASAN_DIR := build/asan
CMAKE_COMMON := -G Ninja -DCMAKE_EXPORT_COMPILE_COMMANDS=ON

FUZZ_DIR := build/fuzz
FUZZ_SECONDS ?= 30

.PHONY: deps build build-asan test test-release test-asan test-fuzz fuzz run bench format clean interop-deps

deps:
	@bash scripts/install-deps.sh

$(RELEASE_DIR)/build.ninja:
	cmake -S . -B $(RELEASE_DIR) $(CMAKE_COMMON) -DCMAKE_BUILD_TYPE=Release

$(ASAN_DIR)/build.ninja:
	cmake -S . -B $(ASAN_DIR) $(CMAKE_COMMON) -DCMAKE_BUILD_TYPE=Debug -DLIDARMILL_SANITIZE=ON -DLIDARMILL_BENCH=OFF

build: deps $(RELEASE_DIR)/build.ninja
	cmake --build $(RELEASE_DIR) -j $(JOBS)

build-asan: deps $(ASAN_DIR)/build.ninja
	cmake --build $(ASAN_DIR) -j $(JOBS)

interop-deps:
	@bash scripts/install-interop.sh

test-release: build interop-deps
	cd $(RELEASE_DIR) && ctest --output-on-failure -j $(JOBS)

# The sanitizer build runs the unit tests (odd and broken files included); the
# interop and end-to-end labels run only against the release build.
test-asan: build-asan
	cd $(ASAN_DIR) && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j $(JOBS) -LE 'interop|e2e'

# libFuzzer (clang) on the header/VLR parsers and the chunk decoders, seeded with the
# shared sample files, for FUZZ_SECONDS.
$(FUZZ_DIR)/build.ninja:
	CC=clang-14 CXX=clang++-14 cmake -S . -B $(FUZZ_DIR) $(CMAKE_COMMON) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLIDARMILL_FUZZ=ON

fuzz: deps $(FUZZ_DIR)/build.ninja
	cmake --build $(FUZZ_DIR) -j $(JOBS) --target fuzz_reader

test-fuzz: fuzz
	bash scripts/run-fuzz.sh $(FUZZ_DIR)/fuzz_reader $(FUZZ_SECONDS)

test: test-release test-asan test-fuzz

run: build
	bash scripts/demo.sh

bench: build
	bash bench/run_all.sh

format:
	find src apps tests bench -name '*.cpp' -o -name '*.hpp' | xargs clang-format -i

clean:
	rm -rf build
