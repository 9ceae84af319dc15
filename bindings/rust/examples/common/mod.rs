// SPDX-License-Identifier: MIT
//! What every example server does around its engine, as azbuse-run does:
//! parse the common flags, serve, print the device path on the first line,
//! and on SIGINT, SIGTERM or SIGHUP drain and remove the device.

// Not every example uses every part.
#[allow(dead_code)]
pub mod null;
#[allow(dead_code)]
pub mod sparse;

use azbuse::cli::{CommonArgs, COMMON_HELP, EXIT_USAGE};
use azbuse::{Server, StorageEngine};
use std::io::Write;
use std::process::exit;

/// Parses the command line; exits with its help or a usage error.
/// `extra` lists the program's own options for --help.
pub fn args(prog: &str, what: &str, extra: &str) -> CommonArgs {
    match CommonArgs::parse(std::env::args().skip(1)) {
        Ok(Some(a)) => a,
        Ok(None) => {
            print!("Usage: {} [options]\n{}\n\n{}{}", prog, what, COMMON_HELP, extra);
            exit(0);
        }
        Err(e) => usage_error(prog, &e),
    }
}

pub fn usage_error(prog: &str, msg: &str) -> ! {
    eprintln!("{}: {}\nTry '{} --help'.", prog, msg, prog);
    exit(EXIT_USAGE);
}

/// Serves `engine` with the common options until a stop signal.
pub fn serve<E: StorageEngine>(prog: &str, a: &CommonArgs, engine: E) {
    azbuse::block_stop_signals();
    let mut b = Server::builder(engine).name(prog).size(a.size).queues(a.queues)
        .depth(a.depth).poll(a.poll).spin_us(a.spin_us);
    if let Some(c) = &a.cpus {
        b = b.cpus(c);
    }
    let mut server = match b.start() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{}: cannot serve a device: {}", prog, e);
            exit(1);
        }
    };
    let mut out = std::io::stdout();
    if writeln!(out, "{}", server.device_path()).and_then(|_| out.flush()).is_err() {
        eprintln!("{}: cannot write the device path to stdout", prog);
        let _ = server.stop();
        exit(1);
    }
    azbuse::wait_stop_signal();
    let res = server.stop();
    // What was served, as azbuse-run says it.
    let (mut ios, mut errors, mut redirects) = (0u64, 0u64, 0u64);
    for q in 0..server.nr_queues() {
        if let Ok(st) = server.queue_stats(q) {
            ios += st.ios.iter().sum::<u64>();
            errors += st.errors;
            redirects += st.redirects;
        }
    }
    eprintln!("{}: served {} requests, {} errors, {} redirected", prog, ios, errors, redirects);
    if let Err(e) = res {
        eprintln!("{}: {}", prog, e);
        exit(1);
    }
}
