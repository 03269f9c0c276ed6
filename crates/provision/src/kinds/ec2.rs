//! What the EC2 kinds share: the stack's tags on creation (TagSpecifications), the listing
//! filter by the stack's tag, and reading tags back.

use aws_sdk_ec2::types::{Filter, ResourceType, Tag, TagSpecification};
use pipectl_spec::graph::Kind;

use super::Observed;
use crate::ctx::{Ctx, Live, TAG_RESOURCE, TAG_STACK};

pub(super) const EC2: &str = "ec2";

pub(super) fn tag_spec(ctx: &Ctx, rt: ResourceType, logical: &str, name: &str) -> TagSpecification {
    let mut b = TagSpecification::builder().resource_type(rt);
    for (k, v) in ctx.tags(logical, name) {
        b = b.tags(Tag::builder().key(k).value(v).build());
    }
    b.build()
}

pub(super) fn stack_filter(ctx: &Ctx) -> Filter {
    Filter::builder()
        .name(format!("tag:{TAG_STACK}"))
        .values(&ctx.stack)
        .build()
}

pub(super) fn tag<'a>(tags: &'a [Tag], key: &str) -> Option<&'a str> {
    tags.iter()
        .find(|t| t.key() == Some(key))
        .and_then(|t| t.value())
}

/// The stack's own: the listing filters by tag, and the tags are checked again here because
/// not every implementation of the EC2 API honours every filter.
pub(super) fn obs(ctx: &Ctx, kind: Kind, tags: &[Tag], live: Live) -> Option<Observed> {
    if tag(tags, TAG_STACK) != Some(ctx.stack.as_str()) {
        return None;
    }
    tag(tags, TAG_RESOURCE).map(|l| Observed {
        kind,
        logical: l.to_string(),
        live,
    })
}
