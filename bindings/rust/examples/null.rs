// SPDX-License-Identifier: MIT
//! null: completes every request at once and touches no data, as the C
//! `null` engine: the cost of the Rust binding itself.
//!
//!     null -s 1G -q 2 -d 128 --poll adaptive

mod common;

use common::null::Null;

fn main() {
    let a = common::args("null", "Serve a device that completes every request at once (no data).", "");
    if let Some(x) = a.rest.first() {
        common::usage_error("null", &format!("unexpected argument '{}'", x));
    }
    if a.size == 0 {
        common::usage_error("null", "-s SIZE is required");
    }
    common::serve("null", &a, Null { size: a.size });
}
