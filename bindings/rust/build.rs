// SPDX-License-Identifier: LGPL-2.1-or-later
//! Finds libazbuse and checks, at build time, that the crate's FFI
//! declarations (src/sys.rs) have the layout of include/azbuse.h: a small C
//! program compiled against the header prints every struct's size and every
//! field's offset, and src/sys.rs asserts each one in a const block, so a
//! struct that differs is a compile error, not memory corruption.
//!
//! Where libazbuse is: $AZBUSE_INCLUDE_DIR and $AZBUSE_LIB_DIR if set; else
//! the source tree this crate sits in (../../include, ../../build/lib) when
//! it was built there; else pkg-config's libazbuse (an installed
//! libazbuse-dev).

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The structs of azbuse.h the crate declares, and the fields it uses.
const LAYOUT: &[(&str, &[&str])] = &[
    ("azb_io", &["op", "flags", "offset", "len", "ioprio", "tag", "buf", "engine_ctx"]),
    ("azb_engine_opts", &["size", "dev_bytes", "logical_bs", "read_only", "params", "write_cache"]),
    ("azb_engine", &["ops", "priv", "dev_bytes", "logical_bs", "dev_flags", "emulate",
                     "max_discard_bytes", "discard_granularity", "max_write_zeroes_bytes",
                     "server", "nr_files", "files", "file_flags", "redirect"]),
    ("azb_engine_queue", &["engine", "priv", "qid", "depth", "arena", "arena_bytes",
                           "max_io_bytes", "rt", "wake_fd", "redirect"]),
    ("azb_engine_ops", &["name", "help", "version", "flags", "io_ctx_bytes", "opts", "open",
                         "close", "queue_init", "queue_exit", "queue", "commit", "reap", "wait"]),
    ("azb_engine_plugin", &["abi", "ops", "init"]),
    ("azb_dev_params", &["size", "dev_id", "nr_poll_queues", "dev_bytes", "flags", "logical_bs",
                         "physical_bs", "max_io_bytes", "nr_queues", "queue_depth", "timeout_ms",
                         "recovery_ms", "max_discard_bytes", "discard_granularity",
                         "max_write_zeroes_bytes"]),
    ("azb_dev_info", &["params", "state", "owner_pid", "blk_major", "blk_minor", "chr_major",
                       "chr_minor"]),
    ("azb_server_opts", &["size", "engine", "target", "dev", "attach_id", "poll", "poll_spin_us",
                          "batch", "engine_params", "cpus", "pin", "label", "serial",
                          "sched"]),
    ("azb_queue_stats", &["ios", "bytes", "errors", "batches", "bad_completions", "op_bytes",
                          "commits", "commit_waits", "engine_waits", "takes", "batch_hist",
                          "qd_sum", "qd_max", "busy_ns", "idle_ns", "redirects", "polled"]),
];

/// Constants of azbuse.h the crate repeats.
const CONSTANTS: &[&str] = &[
    "AZB_ENGINE_OPS_VERSION", "AZB_ENGINE_PLUGIN_ABI", "AZB_ENGINE_F_NEEDS_TARGET",
    "AZB_ENGINE_F_NO_TARGET", "AZB_IO_QUEUED", "AZB_IO_REDIRECTED", "AZB_ENGINE_F_WAKE_FD",
    "AZB_ID_ANY", "AZB_DEV_READ_ONLY", "AZB_DEV_WRITE_CACHE", "AZB_DEV_DISCARD",
    "AZB_DEV_WRITE_ZEROES", "AZB_IO_FUA", "AZB_IO_PREFLUSH", "AZB_IO_NOUNMAP",
    "AZB_OP_READ", "AZB_OP_WRITE", "AZB_OP_FLUSH", "AZB_OP_DISCARD", "AZB_OP_WRITE_ZEROES",
    "AZB_POLL_ADAPTIVE", "AZB_POLL_BUSY", "AZB_POLL_SLEEP", "AZB_PIN_NODE", "AZB_PIN_QUEUE",
    "AZB_SCHED_BATCH", "AZB_SCHED_INHERIT",
    "AZB_LOG_ERR", "AZB_LOG_WARNING", "AZB_LOG_NOTICE", "AZB_STATS_BATCH_BUCKETS",
    "AZB_FILE_READ_ONLY",
];

struct Lib {
    include: Vec<PathBuf>,
    link_dirs: Vec<PathBuf>,
    rpath: bool,
}

fn from_tree(manifest: &Path) -> Option<Lib> {
    let top = manifest.join("../..");
    let include = top.join("include");
    let lib = top.join("build/lib");
    if include.join("azbuse.h").exists() && lib.join("libazbuse.so").exists() {
        Some(Lib {
            include: vec![include.clone(), include.join("uapi")],
            link_dirs: vec![lib],
            rpath: true,
        })
    } else {
        None
    }
}

fn from_pkg_config() -> Option<Lib> {
    let out = Command::new("pkg-config").args(["--cflags", "--libs", "libazbuse"]).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?;
    let mut lib = Lib { include: vec![], link_dirs: vec![], rpath: false };
    for word in text.split_whitespace() {
        if let Some(d) = word.strip_prefix("-I") {
            lib.include.push(PathBuf::from(d));
        } else if let Some(d) = word.strip_prefix("-L") {
            lib.link_dirs.push(PathBuf::from(d));
        }
    }
    Some(lib)
}

fn main() {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let out = PathBuf::from(env::var("OUT_DIR").unwrap());
    println!("cargo:rerun-if-env-changed=AZBUSE_INCLUDE_DIR");
    println!("cargo:rerun-if-env-changed=AZBUSE_LIB_DIR");
    println!("cargo:rerun-if-changed=build.rs");

    let lib = match (env::var_os("AZBUSE_INCLUDE_DIR"), env::var_os("AZBUSE_LIB_DIR")) {
        (Some(inc), Some(dir)) => {
            let inc = PathBuf::from(inc);
            Lib { include: vec![inc.clone(), inc.join("uapi")], link_dirs: vec![dir.into()], rpath: true }
        }
        _ => from_tree(&manifest).or_else(from_pkg_config).unwrap_or_else(|| {
            panic!("libazbuse not found: build it (make lib in the azbuse tree), install \
                    libazbuse-dev, or set AZBUSE_INCLUDE_DIR and AZBUSE_LIB_DIR")
        }),
    };
    for d in &lib.include {
        println!("cargo:rerun-if-changed={}", d.join("azbuse.h").display());
    }
    for d in &lib.link_dirs {
        println!("cargo:rustc-link-search=native={}", d.display());
        // A library outside the system's paths: find it at run time too.
        if lib.rpath {
            println!("cargo:rustc-link-arg=-Wl,-rpath,{}", d.display());
        }
    }
    println!("cargo:rustc-link-lib=dylib=azbuse");

    // The layout probe: sizes, offsets and constants as the C compiler
    // sees them, written as Rust const assertions on src/sys.rs's items.
    let mut c = String::from("#include <stddef.h>\n#include <stdio.h>\n#include <azbuse.h>\nint main(void)\n{\n");
    for (st, fields) in LAYOUT {
        c += &format!("\tprintf(\"const _: () = assert!(std::mem::size_of::<{0}>() == %zu, \\\"size of struct {0}\\\");\\n\", sizeof(struct {0}));\n", st);
        c += &format!("\tprintf(\"const _: () = assert!(std::mem::align_of::<{0}>() == %zu, \\\"alignment of struct {0}\\\");\\n\", _Alignof(struct {0}));\n", st);
        for f in *fields {
            let rust = if *f == "priv" { "priv_" } else { f };
            c += &format!("\tprintf(\"const _: () = assert!(std::mem::offset_of!({0}, {2}) == %zu, \\\"offset of {0}.{1}\\\");\\n\", offsetof(struct {0}, {1}));\n", st, f, rust);
        }
    }
    for k in CONSTANTS {
        c += &format!("\tprintf(\"const _: () = assert!({0} as i64 == %lld, \\\"{0}\\\");\\n\", (long long){0});\n", k);
    }
    c += "\treturn 0;\n}\n";
    let src = out.join("layout_probe.c");
    let exe = out.join("layout_probe");
    fs::write(&src, c).unwrap();
    let cc = env::var("CC").unwrap_or_else(|_| "cc".into());
    let mut cmd = Command::new(&cc);
    for d in &lib.include {
        cmd.arg(format!("-I{}", d.display()));
    }
    let st = cmd.arg("-o").arg(&exe).arg(&src).status()
        .unwrap_or_else(|e| panic!("cannot run the C compiler {}: {}", cc, e));
    assert!(st.success(), "the layout probe against azbuse.h did not compile");
    let probe = Command::new(&exe).output().expect("cannot run the layout probe");
    assert!(probe.status.success(), "the layout probe failed");
    fs::write(out.join("layout_check.rs"), probe.stdout).unwrap();
}
