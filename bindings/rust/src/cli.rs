// SPDX-License-Identifier: LGPL-2.1-or-later
//! The command line every azbuse server shares with `azbuse-run`:
//! `-s SIZE -q N -d DEPTH --poll MODE`, for programs that serve a Rust
//! engine (the examples use it).

use std::ffi::CString;

use crate::server::Poll;
use crate::sys;

/// The exit status of a wrong command line, as azbuse-run's.
pub const EXIT_USAGE: i32 = 2;

/// `-s SIZE -q N -d DEPTH --poll MODE --spin-us N --cpus LIST`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommonArgs {
    /// Bytes; 0: not given.
    pub size: u64,
    /// 0: one per CPU.
    pub queues: u32,
    /// 0: the kernel's default.
    pub depth: u32,
    pub poll: Poll,
    pub spin_us: u32,
    pub cpus: Option<String>,
    /// Arguments that are not common options, in order.
    pub rest: Vec<String>,
}

/// Help lines for the common options, to print under a program's usage.
pub const COMMON_HELP: &str = "\
  -s, --size SIZE        device size: bytes or a number with K, M, G, T, P
                         (powers of 1024; fractions such as 1.5G too)
  -q, --queues N         hardware queues, 1..256 (default: one per CPU)
  -d, --depth N          requests in flight per queue (default: the kernel's)
      --poll MODE        busy, adaptive (spin, then sleep; the default) or sleep
      --spin-us N        adaptive: microseconds to spin before sleeping
      --cpus LIST        CPUs the pollers may run on, as 0-3,8
  -h, --help             this help
";

/// A size as libazbuse reads it ("1G", "1.5G", "512").
pub fn parse_size(s: &str) -> Option<u64> {
    let c = CString::new(s).ok()?;
    let mut out = 0u64;
    (unsafe { sys::azb_parse_size(c.as_ptr(), &mut out) } == 0).then_some(out)
}

fn number(opt: &str, v: &str, min: u32, max: u32) -> Result<u32, String> {
    match v.parse::<u32>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        Ok(_) => Err(format!("{}: '{}' is not in {}..{}", opt, v, min, max)),
        Err(_) => Err(format!("{}: '{}' is not a number", opt, v)),
    }
}

impl CommonArgs {
    /// Parses `args` (without the program name).  `Ok(None)`: --help was
    /// asked for.  `Err`: one line saying what is wrong.
    pub fn parse<I: IntoIterator<Item = String>>(args: I) -> Result<Option<CommonArgs>, String> {
        let mut a = CommonArgs { size: 0, queues: 0, depth: 0, poll: Poll::Adaptive, spin_us: 0,
                                 cpus: None, rest: Vec::new() };
        let mut it = args.into_iter();
        while let Some(arg) = it.next() {
            // --opt=value and -oVALUE as well as separate words.
            let (opt, inline) = if let Some(rest) = arg.strip_prefix("--") {
                match rest.split_once('=') {
                    Some((o, v)) => (format!("--{}", o), Some(v.to_string())),
                    None => (arg.clone(), None),
                }
            } else if arg.len() > 2 && arg.starts_with('-') && "sqd".contains(&arg[1..2]) {
                (arg[..2].to_string(), Some(arg[2..].to_string()))
            } else {
                (arg.clone(), None)
            };
            let takes_value = matches!(opt.as_str(), "-s" | "--size" | "-q" | "--queues" | "-d" |
                                       "--depth" | "--poll" | "--spin-us" | "--cpus");
            if !takes_value {
                match opt.as_str() {
                    "-h" | "--help" => return Ok(None),
                    _ => {
                        a.rest.push(arg);
                        continue;
                    }
                }
            }
            let v = match inline.or_else(|| it.next()) {
                Some(v) => v,
                None => return Err(format!("option '{}' requires an argument", opt)),
            };
            match opt.as_str() {
                "-s" | "--size" => {
                    a.size = parse_size(&v).filter(|&n| n > 0).ok_or_else(|| {
                        format!("{}: '{}' is not a size (bytes, or a number with K, M, G, T or P)", opt, v)
                    })?
                }
                "-q" | "--queues" => a.queues = number(&opt, &v, 1, 256)?,
                "-d" | "--depth" => a.depth = number(&opt, &v, 1, 4096)?,
                "--poll" => a.poll = v.parse().map_err(|e| format!("--poll: {}", e))?,
                "--spin-us" => a.spin_us = number(&opt, &v, 0, 1_000_000)?,
                _ => a.cpus = Some(v),
            }
        }
        Ok(Some(a))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Result<Option<CommonArgs>, String> {
        CommonArgs::parse(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn common_flags() {
        let a = p(&["-s", "1.5G", "-q2", "--depth=64", "--poll", "busy", "extra"]).unwrap().unwrap();
        assert_eq!(a.size, 3 << 29);
        assert_eq!((a.queues, a.depth, a.poll), (2, 64, Poll::Busy));
        assert_eq!(a.rest, vec!["extra".to_string()]);
        assert_eq!(p(&["--help"]).unwrap(), None);
    }

    #[test]
    fn errors_name_the_option() {
        assert_eq!(p(&["-q", "0"]).unwrap_err(), "-q: '0' is not in 1..256");
        assert_eq!(p(&["--poll", "fast"]).unwrap_err(), "--poll: 'fast' is not one of adaptive, busy, sleep");
        assert!(p(&["-s", "12Q"]).unwrap_err().starts_with("-s: '12Q' is not a size"));
        assert_eq!(p(&["-d"]).unwrap_err(), "option '-d' requires an argument");
    }
}
