// SPDX-License-Identifier: MIT
//! rustnull: the null engine (examples/common/null.rs) as an engine plugin.
//! Built as librustnull.so; installed as rustnull.so in a plugin
//! directory, it is served by the C tools:
//!
//!     AZBUSE_ENGINE_PATH=DIR azbuse-run --engine rustnull -s 1G

#[path = "common/null.rs"]
mod null;

use azbuse::{Errno, OpenArgs, PluginEngine};
use null::Null;

impl PluginEngine for Null {
    const NAME: &'static std::ffi::CStr = c"rustnull";
    const HELP: &'static std::ffi::CStr = c"completes every request at once, no data (Rust)";
    const NEEDS_TARGET: bool = false;

    fn open(args: &OpenArgs<'_>) -> Result<Null, Errno> {
        if let Some(p) = args.params.filter(|p| !p.is_empty()) {
            azbuse::log_error(&format!("rustnull engine: takes no options, got '{}'", p));
            return Err(Errno::EINVAL);
        }
        if args.size == 0 {
            azbuse::log_error("rustnull engine: needs a size (-s SIZE)");
            return Err(Errno::EINVAL);
        }
        Ok(Null { size: args.size })
    }
}

azbuse::plugin!(Null);
