//! The build script of the API components: a 256 KiB stack instead of Rust's default 1 MiB.
//!
//! The stack sits at the bottom of a component's linear memory, below its data and heap, so it
//! sets how much memory an instance has from its start. The runtime resets every page an
//! instance had accessible before the next request reuses its slot (wasmtime's pooling
//! allocator, as Spin configures it, keeps the first 2 MiB resident and rewrites them), so the
//! stack's size is paid on every request, used or not. The deepest frame of these components is
//! under 7 KiB; nesting is bounded by the parsers' own limits (serde_json's 128 levels, the text
//! scanner's 200), and the API tests (tests/api) run these components at this size.
//! BENCHMARKS.md, "A smaller stack, and instants inlined", has the before and after.

fn main() {
    println!("cargo:rustc-link-arg=-zstack-size=262144");
}
