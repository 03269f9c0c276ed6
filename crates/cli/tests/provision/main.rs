//! `pipectl up`, `status` and `down` end to end against the local AWS, verified with describe
//! calls made here with the SDK, never by pipectl's own output.

#[path = "../stack/mod.rs"]
mod stack;

use std::collections::HashMap;
use std::sync::Arc;

use aws_sdk_ec2::types::Filter;
use pipectl_provision::{Action, Session, Timeouts};
use stack::{aws, err, ok, out, stack, tagged};

mod endpoints;
mod guards;
mod lifecycle;
mod recovery;

fn filter(stack: &str) -> Filter {
    Filter::builder()
        .name("tag:pipectl:stack")
        .values(stack)
        .build()
}
