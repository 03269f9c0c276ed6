//! Tags on FSx objects (file systems and their data repository associations): how the stack
//! recognises its own, and the tags it gives them.

use aws_sdk_fsx::types::Tag as FsxTag;

use crate::ctx::{Ctx, TAG_RESOURCE, TAG_STACK};

pub(super) const FSX: &str = "fsx";

/// The logical id of an FSx object of the stack (`None`: not the stack's).
pub(super) fn fsx_owned(tags: &[FsxTag], stack: &str) -> Option<String> {
    let get = |k: &str| {
        tags.iter()
            .find(|t| t.key() == Some(k))
            .and_then(|t| t.value())
            .map(str::to_string)
    };
    (get(TAG_STACK).as_deref() == Some(stack))
        .then(|| get(TAG_RESOURCE))
        .flatten()
}

pub(super) fn fsx_tags(ctx: &Ctx, id: &str, name: &str) -> Vec<FsxTag> {
    ctx.tags(id, name)
        .into_iter()
        .map(|(k, v)| FsxTag::builder().key(k).value(v).build())
        .collect()
}
