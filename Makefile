# The README's two commands are `make run` and `make test`.
SHELL := /bin/bash
CARGO ?= cargo
WASM_TARGET := wasm32-wasip2
COMPONENTS := system web
# Built with the size profile (see Cargo.toml).
SMALL_COMPONENTS := auth accounts tweets scheduler analytics
WASM_PACKAGES := $(foreach c,$(COMPONENTS),-p $(c))
SMALL_PACKAGES := $(foreach c,$(SMALL_COMPONENTS),-p $(c))
# The domain crates (crates/*, packages xmp-*), linted for the components' target too.
DOMAINS := identity accounts posts analytics scheduler
DOMAIN_PACKAGES := $(foreach d,$(DOMAINS),-p xmp-$(d))
# The release profile is tuned for component size (LTO, opt-level "s", abort). Native binaries
# trade that for build time and speed: thin LTO, opt-level 3, unwinding panics.
NATIVE_PROFILE := --config 'profile.release.lto="thin"' --config 'profile.release.opt-level=3' \
                  --config 'profile.release.codegen-units=16' --config 'profile.release.panic="unwind"'
LISTEN ?= 127.0.0.1:3000
XSIM_LISTEN ?= 127.0.0.1:4010
# The web app (TypeScript, built by components/web/build.rs into the web component).
WEB_APP := components/web/app
# `npm ci` refuses this lockfile: vite names a Windows-only optional package that the registry
# does not serve. `npm install` with the lockfile installs exactly its versions and skips it.
NPM_CI := npm install --prefer-offline --no-audit --no-fund

.PHONY: build components native run test test-spin contract lint fmt bench clean web-deps web-test

build: components native

components: web-deps
	@rustup target list --installed 2>/dev/null | grep -q $(WASM_TARGET) || rustup target add $(WASM_TARGET)
	$(CARGO) build --target $(WASM_TARGET) --release $(WASM_PACKAGES)
	$(CARGO) build --target $(WASM_TARGET) --profile release-small $(SMALL_PACKAGES)

native:
	$(CARGO) build --release $(NATIVE_PROFILE) -p xmp-host -p xsim

# Node packages from the lockfile (offline when npm's cache has them), reinstalled when the
# lockfile changes.
web-deps: $(WEB_APP)/node_modules/.package-lock.json
$(WEB_APP)/node_modules/.package-lock.json: $(WEB_APP)/package-lock.json
	@command -v npm >/dev/null || { echo "The web app needs Node.js 20+ and npm (https://nodejs.org)"; exit 1; }
	cd $(WEB_APP) && $(NPM_CI)
	@touch $@

# The web app's unit tests (vitest) and its end-to-end tests in headless Chromium against the
# platform started as `make run` starts it (xmp + xsim on free ports, a fresh database).
web-test: web-deps native
	cd $(WEB_APP) && npm test
	cd $(WEB_APP) && npm run e2e

# Builds everything, finds or starts PostgreSQL, migrates, starts the X API simulator and
# serves the app on $(LISTEN) with the embedded key-value store.
run: build
	@scripts/run.sh "$(LISTEN)" "$(XSIM_LISTEN)"

# Every test: lint gate, the deployment files' check (deploy/check.sh), unit tests, the
# integration suite on real PostgreSQL and Redis, the API contract run (schemathesis against
# the running platform, scripts/contract.sh) and the web app's tests.
test: lint
	deploy/check.sh
	$(CARGO) build --target $(WASM_TARGET) --release $(WASM_PACKAGES) -p probe
	$(CARGO) build --target $(WASM_TARGET) --profile release-small $(SMALL_PACKAGES)
	$(CARGO) test --workspace --exclude system --exclude web --exclude auth --exclude accounts --exclude tweets --exclude scheduler --exclude analytics --exclude probe
	$(MAKE) native
	scripts/contract.sh
	$(MAKE) web-test

# The API contract run alone: every operation of crates/common/openapi.json against xmp + xsim
# (MAX_EXAMPLES, SEED: see scripts/contract.sh).
contract: components native
	scripts/contract.sh

# The integration suite against a real Spin (`SPIN_BIN=/path/to/spin make test-spin`), with the
# trigger-cron plugin 0.3.0 installed; tests about xmp itself (named xmp_...) return at once.
# `TEST_KV=redis` puts every test that does not choose its store on Redis.
test-spin:
	@test -n "$(SPIN_BIN)" || { echo "set SPIN_BIN to a spin binary"; exit 2; }
	$(CARGO) build --target $(WASM_TARGET) --release $(WASM_PACKAGES) -p probe
	$(CARGO) build --target $(WASM_TARGET) --profile release-small $(SMALL_PACKAGES)
	SPIN_BIN="$(SPIN_BIN)" $(CARGO) test --workspace --exclude system --exclude web --exclude auth --exclude accounts --exclude tweets --exclude scheduler --exclude analytics --exclude probe --test api -- $(TESTS)

# cargo-machete fails the lint on a dependency no source file names (a crate used only through
# another crate's macro goes in its Cargo.toml's `[package.metadata.cargo-machete] ignored`).
MACHETE_VERSION := 0.9.2

lint: web-deps
	@rustup target list --installed 2>/dev/null | grep -q $(WASM_TARGET) || rustup target add $(WASM_TARGET)
	@command -v cargo-machete >/dev/null || $(CARGO) install --locked cargo-machete@$(MACHETE_VERSION)
	$(CARGO) fmt --all -- --check
	$(CARGO) machete
	$(CARGO) clippy --workspace --exclude system --exclude web --exclude auth --exclude accounts --exclude tweets --exclude scheduler --exclude analytics --exclude probe --all-targets -- -D warnings
	$(CARGO) clippy --target $(WASM_TARGET) -p xmp-envelope -p common $(DOMAIN_PACKAGES) $(WASM_PACKAGES) $(SMALL_PACKAGES) -p probe -- -D warnings

fmt:
	$(CARGO) fmt --all

bench: build
	scripts/bench.sh

clean:
	$(CARGO) clean
	rm -rf .spin .xmp
