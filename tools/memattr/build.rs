// SPDX-License-Identifier: GPL-2.0
//! Generates the uAPI bindings from the header the project ships, at build time.

use std::{env, path::PathBuf};

fn main() {
    let header = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap())
        .join("../../include/uapi/linux/kvm_memattr.h");
    println!("cargo:rerun-if-changed={}", header.display());
    let bindings = bindgen::Builder::default()
        .header(header.to_string_lossy())
        .allowlist_var("KVM_MEMORY_.*")
        .allowlist_var("KVMIO")
        .allowlist_type("kvm_memory_attributes")
        .derive_default(true)
        .generate()
        .expect("bindgen could not parse include/uapi/linux/kvm_memattr.h (is libclang installed? run make deps)");
    bindings
        .write_to_file(PathBuf::from(env::var("OUT_DIR").unwrap()).join("uapi.rs"))
        .expect("cannot write the generated bindings");
}
