//! The S3 buckets: public access blocked, encrypted, TLS only, bucket-owner-enforced,
//! versioned where the spec says; emptied (every version) before `down` deletes them unless
//! the data is kept.

use aws_sdk_s3::types::{
    BucketVersioningStatus, Delete, ObjectIdentifier, ObjectOwnership, OwnershipControls,
    OwnershipControlsRule, PublicAccessBlockConfiguration, ServerSideEncryption,
    ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration, ServerSideEncryptionRule,
    Tag as S3Tag, Tagging, VersioningConfiguration,
};
use pipectl_aws::{AwsError, ResultExt};
use pipectl_spec::graph::{Kind, Payload, Resource, ResourceId};

use super::{Handler, Observed};
use crate::ctx::{Ctx, Drift, Event, Live, TAG_RESOURCE, TAG_STACK};
use crate::error::ProvisionError;
use crate::wait::found;

const S3: &str = "s3";

pub(crate) struct Bucket;

impl Handler for Bucket {
    async fn observe(ctx: &Ctx) -> Result<Vec<Observed>, ProvisionError> {
        observe_buckets(ctx).await
    }

    fn drift(ctx: &Ctx, r: &Resource, live: &Live) -> Vec<Drift> {
        let mut d = Vec::new();
        if live.get("untagged") == "true" {
            d.push(Drift::new("tags", "pipectl:stack", "none", true));
        }
        for (k, what) in [
            ("public-access-blocked", "public access block"),
            ("encrypted", "default encryption"),
            ("tls-only", "TLS-only policy"),
        ] {
            if live.get(k) != "true" {
                d.push(Drift::new(what, "on", "off", true));
            }
        }
        let want = ctx.spec.buckets[key_of(r)].versioning;
        if live.get("versioning") != want.to_string() {
            d.push(Drift::new("versioning", want, live.get("versioning"), true));
        }
        d
    }

    async fn create(ctx: &Ctx, r: &Resource) -> Result<Live, ProvisionError> {
        let id: &str = &r.id.to_string();
        let name = ctx.bucket_name(key_of(r));
        let s3 = &ctx.aws.s3;
        let mut req = s3
            .create_bucket()
            .bucket(&name)
            .object_ownership(ObjectOwnership::BucketOwnerEnforced);
        if ctx.aws.region != "us-east-1" {
            req = req.create_bucket_configuration(
                aws_sdk_s3::types::CreateBucketConfiguration::builder()
                    .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(
                        ctx.aws.region.as_str(),
                    ))
                    .build(),
            );
        }
        match req.send().await.ctx(S3, "CreateBucket", id) {
            Ok(_) => {}
            // Ours from an interrupted `up` (it is tagged just below): carry on.
            Err(e) if e.code.as_deref() == Some("BucketAlreadyOwnedByYou") => {}
            Err(e) => return Err(e.into()),
        }
        let mut tagging = Tagging::builder();
        for (k, v) in ctx.tags(id, &name) {
            tagging = tagging.tag_set(S3Tag::builder().key(k).value(v).build().expect("set"));
        }
        s3.put_bucket_tagging()
            .bucket(&name)
            .tagging(tagging.build().expect("set"))
            .send()
            .await
            .ctx(S3, "PutBucketTagging", id)?;
        let live = Live::new(&name, "exists");
        // `tags` is done just above; the rest follows.
        let all = [
            Drift::new("public access block", "", "", true),
            Drift::new("default encryption", "", "", true),
            Drift::new("TLS-only policy", "", "", true),
            Drift::new("ownership", "", "", true),
            Drift::new("versioning", "", "", true),
        ];
        Self::update(ctx, r, &live, &all).await
    }

    async fn update(
        ctx: &Ctx,
        r: &Resource,
        live: &Live,
        drifts: &[Drift],
    ) -> Result<Live, ProvisionError> {
        let s3 = &ctx.aws.s3;
        let id: &str = &r.id.to_string();
        let name = live.physical_id.as_str();
        let mut live = live.clone();
        for d in drifts.iter().filter(|d| d.in_place) {
            match d.what.as_str() {
                "tags" => {
                    let mut tagging = Tagging::builder();
                    for (k, v) in ctx.tags(id, name) {
                        tagging =
                            tagging.tag_set(S3Tag::builder().key(k).value(v).build().expect("set"));
                    }
                    s3.put_bucket_tagging()
                        .bucket(name)
                        .tagging(tagging.build().expect("set"))
                        .send()
                        .await
                        .ctx(S3, "PutBucketTagging", id)?;
                    live.attrs.remove("untagged");
                    live.state = "exists".into();
                }
                "public access block" => {
                    s3.put_public_access_block()
                        .bucket(name)
                        .public_access_block_configuration(public_access_blocked())
                        .send()
                        .await
                        .ctx(S3, "PutPublicAccessBlock", id)?;
                    live = live.attr("public-access-blocked", "true");
                }
                "default encryption" => {
                    s3.put_bucket_encryption()
                        .bucket(name)
                        .server_side_encryption_configuration(encryption())
                        .send()
                        .await
                        .ctx(S3, "PutBucketEncryption", id)?;
                    live = live.attr("encrypted", "true");
                }
                "TLS-only policy" => {
                    s3.put_bucket_policy()
                        .bucket(name)
                        .policy(tls_policy(name))
                        .send()
                        .await
                        .ctx(S3, "PutBucketPolicy", id)?;
                    live = live.attr("tls-only", "true");
                }
                "ownership" => {
                    s3.put_bucket_ownership_controls()
                        .bucket(name)
                        .ownership_controls(owner_enforced())
                        .send()
                        .await
                        .ctx(S3, "PutBucketOwnershipControls", id)?;
                }
                "versioning" => {
                    let want = ctx.spec.buckets[key_of(r)].versioning;
                    if let Some(status) = versioning_change(want, live.get("versioning") == "true")
                    {
                        s3.put_bucket_versioning()
                            .bucket(name)
                            .versioning_configuration(
                                VersioningConfiguration::builder().status(status).build(),
                            )
                            .send()
                            .await
                            .ctx(S3, "PutBucketVersioning", id)?;
                    }
                    live = live.attr("versioning", want.to_string());
                }
                _ => {}
            }
        }
        Ok(live)
    }

    async fn delete(ctx: &Ctx, o: &Observed, keep_data: bool) -> Result<(), ProvisionError> {
        let id = o.logical.as_str();
        let pid = o.live.physical_id.as_str();
        if keep_data {
            ctx.emit(Event::Note {
                message: format!("{id}: kept s3://{pid} and its objects (--keep-data)"),
            });
            return Ok(());
        }
        let n = empty_bucket(ctx, id, pid).await?;
        if n > 0 {
            ctx.emit(Event::Note {
                message: format!("{id}: deleted {n} object version(s) from s3://{pid}"),
            });
        }
        found(
            ctx.aws
                .s3
                .delete_bucket()
                .bucket(pid)
                .send()
                .await
                .ctx(S3, "DeleteBucket", id),
        )?;
        Ok(())
    }
}

/// Public access blocked every way S3 offers.
fn public_access_blocked() -> PublicAccessBlockConfiguration {
    PublicAccessBlockConfiguration::builder()
        .block_public_acls(true)
        .ignore_public_acls(true)
        .block_public_policy(true)
        .restrict_public_buckets(true)
        .build()
}

/// Default encryption: SSE-S3 (AES256) with bucket keys.
fn encryption() -> ServerSideEncryptionConfiguration {
    let rule = ServerSideEncryptionRule::builder()
        .apply_server_side_encryption_by_default(
            ServerSideEncryptionByDefault::builder()
                .sse_algorithm(ServerSideEncryption::Aes256)
                .build()
                .expect("set"),
        )
        .bucket_key_enabled(true)
        .build();
    ServerSideEncryptionConfiguration::builder()
        .rules(rule)
        .build()
        .expect("set")
}

/// Objects owned by the bucket owner, ACLs off.
fn owner_enforced() -> OwnershipControls {
    let rule = OwnershipControlsRule::builder()
        .object_ownership(ObjectOwnership::BucketOwnerEnforced)
        .build()
        .expect("set");
    OwnershipControls::builder()
        .rules(rule)
        .build()
        .expect("set")
}

/// The versioning call to make, if any: enable as the spec asks, suspend only a bucket that
/// has it on (a bucket never versioned stays so).
fn versioning_change(want: bool, have: bool) -> Option<BucketVersioningStatus> {
    match (want, have) {
        (true, _) => Some(BucketVersioningStatus::Enabled),
        (false, true) => Some(BucketVersioningStatus::Suspended),
        (false, false) => None,
    }
}

async fn observe_buckets(ctx: &Ctx) -> Result<Vec<Observed>, ProvisionError> {
    let s3 = &ctx.aws.s3;
    let prefix = format!("pipectl-{}-", ctx.stack);
    let suffix = format!("-{}", ctx.account);
    let list = s3
        .list_buckets()
        .send()
        .await
        .ctx(S3, "ListBuckets", "buckets")?;
    let mut out = Vec::new();
    for b in list.buckets() {
        let name = b.name().unwrap_or_default();
        // The name alone could be another stack's ("a" and "a-b"): the tags decide.
        let Some(key) = bucket_key(name, &prefix, &suffix) else {
            continue;
        };
        let Some(tags) = found(s3.get_bucket_tagging().bucket(name).send().await.ctx(
            S3,
            "GetBucketTagging",
            name,
        ))
        .or_else(no_tags)?
        else {
            // Untagged, but with the exact name this stack derives in this account (names are
            // global, so no one else can hold it) and empty: an `up` stopped between creating
            // and tagging it. Anything else untagged is not the stack's.
            if ctx.spec.buckets.contains_key(key) && is_empty(ctx, name).await? {
                out.push(Observed {
                    kind: Kind::Bucket,
                    logical: ResourceId::Bucket(key.to_string()).to_string(),
                    live: Live::new(name, "untagged").attr("untagged", "true"),
                });
            }
            continue;
        };
        let get = |k: &str| {
            tags.tag_set()
                .iter()
                .find(|t| t.key() == k)
                .map(|t| t.value().to_string())
        };
        if get(TAG_STACK).as_deref() != Some(ctx.stack.as_str()) {
            continue;
        }
        let logical =
            get(TAG_RESOURCE).unwrap_or_else(|| ResourceId::Bucket(key.to_string()).to_string());
        let (pab, enc, pol, ver) = tokio::join!(
            s3.get_public_access_block().bucket(name).send(),
            s3.get_bucket_encryption().bucket(name).send(),
            s3.get_bucket_policy().bucket(name).send(),
            s3.get_bucket_versioning().bucket(name).send(),
        );
        let blocked = pab
            .ok()
            .and_then(|p| p.public_access_block_configuration().cloned())
            .is_some_and(|c| {
                c.block_public_acls() == Some(true)
                    && c.ignore_public_acls() == Some(true)
                    && c.block_public_policy() == Some(true)
                    && c.restrict_public_buckets() == Some(true)
            });
        let encrypted = enc
            .ok()
            .and_then(|e| e.server_side_encryption_configuration().cloned())
            .is_some_and(|c| !c.rules().is_empty());
        let tls_only = pol
            .ok()
            .and_then(|p| p.policy().map(str::to_string))
            .is_some_and(|p| p.contains("aws:SecureTransport"));
        let versioning = ver
            .ok()
            .and_then(|v| v.status().cloned())
            .is_some_and(|s| s == BucketVersioningStatus::Enabled);
        let live = Live::new(name, "exists")
            .attr("public-access-blocked", blocked.to_string())
            .attr("encrypted", encrypted.to_string())
            .attr("tls-only", tls_only.to_string())
            .attr("versioning", versioning.to_string());
        out.push(Observed {
            kind: Kind::Bucket,
            logical,
            live,
        });
    }
    Ok(out)
}

/// The spec's key in one of the stack's bucket names (`pipectl-<stack>-<key>-<account>`), an
/// AWS name, not a logical id.
fn bucket_key<'a>(name: &'a str, prefix: &str, suffix: &str) -> Option<&'a str> {
    name.strip_prefix(prefix)?.strip_suffix(suffix)
}

/// The spec's key of a bucket resource.
fn key_of(r: &Resource) -> &str {
    match &r.payload {
        Payload::Bucket { key } => key,
        _ => unreachable!("a bucket's payload"),
    }
}

async fn is_empty(ctx: &Ctx, name: &str) -> Result<bool, ProvisionError> {
    let out = ctx
        .aws
        .s3
        .list_object_versions()
        .bucket(name)
        .max_keys(1)
        .send()
        .await
        .ctx(S3, "ListObjectVersions", name)?;
    Ok(out.versions().is_empty() && out.delete_markers().is_empty())
}

/// A bucket without tags is not the stack's.
fn no_tags<T>(e: AwsError) -> Result<Option<T>, AwsError> {
    if e.code.as_deref() == Some("NoSuchTagSet") {
        Ok(None)
    } else {
        Err(e)
    }
}

fn tls_policy(bucket: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"DenyInsecureTransport","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::{bucket}","arn:aws:s3:::{bucket}/*"],"Condition":{{"Bool":{{"aws:SecureTransport":"false"}}}}}}]}}"#
    )
}

/// Removes every object and every version of every object (unless the data is kept), then
/// the bucket.
async fn empty_bucket(ctx: &Ctx, id: &str, name: &str) -> Result<u64, ProvisionError> {
    let s3 = &ctx.aws.s3;
    let mut removed = 0u64;
    loop {
        let page = s3
            .list_object_versions()
            .bucket(name)
            .max_keys(1000)
            .send()
            .await
            .ctx(S3, "ListObjectVersions", id)?;
        let mut ids: Vec<ObjectIdentifier> = Vec::new();
        for v in page.versions() {
            ids.push(
                ObjectIdentifier::builder()
                    .key(v.key().unwrap_or_default())
                    .set_version_id(v.version_id().map(str::to_string))
                    .build()
                    .expect("key set"),
            );
        }
        for m in page.delete_markers() {
            ids.push(
                ObjectIdentifier::builder()
                    .key(m.key().unwrap_or_default())
                    .set_version_id(m.version_id().map(str::to_string))
                    .build()
                    .expect("key set"),
            );
        }
        if ids.is_empty() {
            break;
        }
        removed += ids.len() as u64;
        let out = s3
            .delete_objects()
            .bucket(name)
            .delete(
                Delete::builder()
                    .set_objects(Some(ids))
                    .quiet(true)
                    .build()
                    .expect("set"),
            )
            .send()
            .await
            .ctx(S3, "DeleteObjects", id)?;
        if let Some(e) = out.errors().first() {
            return Err(ProvisionError::refused(
                id,
                format!(
                    "could not delete s3://{name}/{}: {}",
                    e.key().unwrap_or("?"),
                    e.message().unwrap_or("?")
                ),
                None,
            ));
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versioning_is_enabled_or_suspended_never_turned_off() {
        assert_eq!(
            versioning_change(true, false),
            Some(BucketVersioningStatus::Enabled)
        );
        assert_eq!(
            versioning_change(false, true),
            Some(BucketVersioningStatus::Suspended)
        );
        assert_eq!(versioning_change(false, false), None);
    }

    #[test]
    fn a_bucket_key_comes_from_the_stack_and_account_around_it() {
        let (p, s) = ("pipectl-seed-", "-123456789012");
        assert_eq!(
            bucket_key("pipectl-seed-input-data-123456789012", p, s),
            Some("input-data")
        );
        assert_eq!(bucket_key("pipectl-other-x-123456789012", p, s), None);
        assert_eq!(bucket_key("pipectl-seed-x-999", p, s), None);
    }
}
