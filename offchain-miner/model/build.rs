//! Records where libtorch lives so binaries and tests linking `tch` find it at run time.
//!
//! `torch-sys` links against the libtorch of PyPI's `torch` wheel (`LIBTORCH_USE_PYTORCH=1`,
//! set in `.cargo/config.toml`, with `.venv-torch/bin` on PATH) but adds no run-time search path. This script asks the same
//! Python for `torch/lib` and adds it as an rpath to every binary, test and example of the
//! package that uses it (the miner and validator use this file as their build script too).

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=PATH");
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    let lib_dir = match std::env::var("LIBTORCH") {
        Ok(root) => Some(format!("{root}/lib")),
        Err(_) => {
            // The interpreter torch-sys uses with LIBTORCH_USE_PYTORCH=1.
            Command::new("python3")
                .args([
                    "-c",
                    "import os, torch; print(os.path.join(os.path.dirname(torch.__file__), 'lib'))",
                ])
                .output()
                .ok()
                .filter(|o| o.status.success())
                .and_then(|o| String::from_utf8(o.stdout).ok())
                .map(|s| s.trim().to_owned())
        }
    };
    match lib_dir {
        Some(dir) => println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}"),
        None => println!("cargo:warning=libtorch not found; set LIBTORCH_USE_PYTORCH=1 with a Python that has torch, or LIBTORCH"),
    }
}
