//! Storage and the dashboard: FSx for Lustre (started first, it is the slowest) with its S3
//! data repository associations, the S3 buckets (public access blocked, encrypted, TLS only,
//! bucket-owner-enforced), and the stack's CloudWatch dashboard.

use aws_sdk_fsx::types::{
    AutoExportPolicy, AutoImportPolicy, CreateFileSystemLustreConfiguration, EventType,
    FileSystemLifecycle, FileSystemType, LustreDeploymentType, S3DataRepositoryConfiguration,
    Tag as FsxTag,
};
use aws_sdk_s3::types::{
    BucketVersioningStatus, Delete, ObjectIdentifier, ObjectOwnership, OwnershipControls,
    OwnershipControlsRule, PublicAccessBlockConfiguration, ServerSideEncryption,
    ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration, ServerSideEncryptionRule,
    Tag as S3Tag, Tagging, VersioningConfiguration,
};
use pipectl_aws::wait::Probe;
use pipectl_aws::{AwsError, ResultExt};
use pipectl_spec::graph::{Kind, Payload, Resource, ResourceId};

use super::{Handler, Observed};
use crate::ctx::{Ctx, Drift, Event, Live, TAG_RESOURCE, TAG_STACK};
use crate::error::ProvisionError;
use crate::wait::{found, wait_for};

const FSX: &str = "fsx";
const S3: &str = "s3";

fn fsx_owned(tags: &[FsxTag], stack: &str) -> Option<String> {
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

fn fsx_tags(ctx: &Ctx, id: &str, name: &str) -> Vec<FsxTag> {
    ctx.tags(id, name)
        .into_iter()
        .map(|(k, v)| FsxTag::builder().key(k).value(v).build())
        .collect()
}

pub(crate) async fn observe(ctx: &Ctx) -> Result<Vec<Observed>, ProvisionError> {
    let (fsx, s3, dash) = tokio::join!(
        observe_fsx(ctx),
        observe_buckets(ctx),
        observe_dashboard(ctx)
    );
    let mut out = fsx?;
    out.extend(s3?);
    out.extend(dash?);
    Ok(out)
}

async fn observe_fsx(ctx: &Ctx) -> Result<Vec<Observed>, ProvisionError> {
    let f = &ctx.aws.fsx;
    let mut out = Vec::new();
    let mut pages = f.describe_file_systems().into_paginator().send();
    while let Some(page) = pages.next().await {
        for fs in page
            .ctx(FSX, "DescribeFileSystems", "file systems")?
            .file_systems()
        {
            let Some(logical) = fsx_owned(fs.tags(), &ctx.stack) else {
                continue;
            };
            let id = fs.file_system_id().unwrap_or_default();
            let lustre = fs.lustre_configuration();
            let live = Live::new(id, fs.lifecycle().map_or("?", |l| l.as_str()))
                .arn(fs.resource_arn())
                .attr("dns", fs.dns_name().unwrap_or_default())
                .attr(
                    "mount-name",
                    lustre.and_then(|l| l.mount_name()).unwrap_or_default(),
                )
                .attr(
                    "capacity",
                    format!("{}GiB", fs.storage_capacity().unwrap_or(0)),
                )
                .attr(
                    "deployment",
                    lustre
                        .and_then(|l| l.deployment_type())
                        .map_or("", |d| d.as_str()),
                )
                .attr("lustre", fs.file_system_type_version().unwrap_or_default())
                .attr(
                    "created",
                    fs.creation_time()
                        .map(|t| t.to_string())
                        .unwrap_or_default(),
                );
            let leaving = live.state == "DELETING";
            out.push(Observed {
                kind: Kind::FileSystem,
                logical,
                live,
            });
            if leaving {
                // Its associations go with it; a new file system gets new ones.
                continue;
            }
            let dras = f
                .describe_data_repository_associations()
                .filters(
                    aws_sdk_fsx::types::Filter::builder()
                        .name(aws_sdk_fsx::types::FilterName::FileSystemId)
                        .values(id)
                        .build(),
                )
                .send()
                .await;
            for a in dras
                .ctx(FSX, "DescribeDataRepositoryAssociations", id)?
                .associations()
            {
                let Some(logical) = fsx_owned(a.tags(), &ctx.stack) else {
                    continue;
                };
                let live = Live::new(
                    a.association_id().unwrap_or_default(),
                    a.lifecycle().map_or("?", |l| l.as_str()),
                )
                .attr("path", a.file_system_path().unwrap_or_default());
                out.push(Observed {
                    kind: Kind::DataRepositoryAssociation,
                    logical,
                    live,
                });
            }
        }
    }
    Ok(out)
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

async fn observe_dashboard(ctx: &Ctx) -> Result<Vec<Observed>, ProvisionError> {
    let name = format!("pipectl-{}", ctx.stack);
    let out = ctx
        .aws
        .cloudwatch
        .list_dashboards()
        .dashboard_name_prefix(&name)
        .send()
        .await
        .ctx("cloudwatch", "ListDashboards", "dashboard")?;
    Ok(out
        .dashboard_entries()
        .iter()
        .filter(|d| d.dashboard_name() == Some(name.as_str()))
        .map(|d| Observed {
            kind: Kind::Dashboard,
            logical: ResourceId::Dashboard.to_string(),
            live: Live::new(&name, "exists").arn(d.dashboard_arn()),
        })
        .collect())
}

pub(crate) fn drift(ctx: &Ctx, r: &Resource, live: &Live) -> Vec<Drift> {
    let mut d = Vec::new();
    match r.kind {
        Kind::FileSystem => {
            let f = ctx
                .spec
                .fsx
                .as_ref()
                .expect("graph has fsx only with [fsx]");
            let want = format!("{}GiB", f.capacity.gib() as u64);
            if live.get("capacity") != want {
                d.push(Drift::new("capacity", want, live.get("capacity"), false));
            }
            if live.get("deployment") != f.deployment_type.as_aws() {
                d.push(Drift::new(
                    "deployment type",
                    f.deployment_type.as_aws(),
                    live.get("deployment"),
                    false,
                ));
            }
            let version = f.effective_lustre_version().as_aws();
            if !live.get("lustre").is_empty() && live.get("lustre") != version {
                d.push(Drift::new(
                    "Lustre version",
                    version,
                    live.get("lustre"),
                    false,
                ));
            }
            if live.state == "FAILED" || live.state == "MISCONFIGURED" {
                d.push(Drift::new("lifecycle", "AVAILABLE", &live.state, false));
            }
        }
        Kind::Bucket => {
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
        }
        _ => {}
    }
    d
}

/// Waits until a file system found DELETING is gone.
pub(crate) async fn gone(ctx: &Ctx, r: &Resource, live: &Live) -> Result<(), ProvisionError> {
    wait_fsx(ctx, &r.id.to_string(), &live.physical_id, true)
        .await
        .map(drop)
}

async fn wait_fsx(ctx: &Ctx, id: &str, fs: &str, gone: bool) -> Result<Live, ProvisionError> {
    wait_for(ctx, id, ctx.timeouts.file_system, || async {
        let out = found(
            ctx.aws
                .fsx
                .describe_file_systems()
                .file_system_ids(fs)
                .send()
                .await
                .ctx(FSX, "DescribeFileSystems", id),
        )?;
        let Some(f) = out.as_ref().and_then(|o| o.file_systems().first()) else {
            return Ok(if gone {
                Probe::Done(Live::default())
            } else {
                Probe::Pending("not visible yet".into())
            });
        };
        Ok(match f.lifecycle() {
            Some(FileSystemLifecycle::Available) if !gone => Probe::Done(
                Live::new(fs, "AVAILABLE")
                    .arn(f.resource_arn())
                    .attr("dns", f.dns_name().unwrap_or_default())
                    .attr(
                        "mount-name",
                        f.lustre_configuration()
                            .and_then(|l| l.mount_name())
                            .unwrap_or_default(),
                    )
                    .attr(
                        "capacity",
                        format!("{}GiB", f.storage_capacity().unwrap_or(0)),
                    )
                    .attr(
                        "deployment",
                        f.lustre_configuration()
                            .and_then(|l| l.deployment_type())
                            .map_or("", |d| d.as_str()),
                    )
                    .attr(
                        "created",
                        f.creation_time().map(|t| t.to_string()).unwrap_or_default(),
                    ),
            ),
            Some(FileSystemLifecycle::Failed) => Probe::Failed(format!(
                "FAILED: {}",
                f.failure_details()
                    .and_then(|d| d.message())
                    .unwrap_or("no reason given")
            )),
            Some(l) => Probe::Pending(l.as_str().to_string()),
            None => Probe::Pending("unknown".into()),
        })
    })
    .await
}

async fn wait_dra(ctx: &Ctx, id: &str, dra: &str) -> Result<(), ProvisionError> {
    wait_for(ctx, id, ctx.timeouts.file_system, || async {
        let out = ctx
            .aws
            .fsx
            .describe_data_repository_associations()
            .association_ids(dra)
            .send()
            .await
            .ctx(FSX, "DescribeDataRepositoryAssociations", id)?;
        let Some(a) = out.associations().first() else {
            return Ok(Probe::Pending("not visible yet".into()));
        };
        Ok(match a.lifecycle().map_or("?", |l| l.as_str()) {
            "AVAILABLE" => Probe::Done(()),
            "FAILED" | "MISCONFIGURED" => Probe::Failed(format!(
                "{}: {}",
                a.lifecycle().map_or("?", |l| l.as_str()),
                a.failure_details()
                    .and_then(|d| d.message())
                    .unwrap_or("no reason given")
            )),
            other => Probe::Pending(other.to_string()),
        })
    })
    .await
}

/// Waits for a resource found in a transitional state (an `up` was interrupted while AWS was
/// still creating it) until dependents can use it.
pub(crate) async fn settle(ctx: &Ctx, r: &Resource, live: &Live) -> Result<Live, ProvisionError> {
    match (r.kind, live.state.as_str()) {
        (Kind::FileSystem, "CREATING" | "UPDATING") => {
            wait_fsx(ctx, &r.id.to_string(), &live.physical_id, false).await
        }
        (Kind::DataRepositoryAssociation, "CREATING" | "UPDATING") => {
            wait_dra(ctx, &r.id.to_string(), &live.physical_id).await?;
            Ok(Live {
                state: "AVAILABLE".into(),
                ..live.clone()
            })
        }
        _ => Ok(live.clone()),
    }
}

fn tls_policy(bucket: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"DenyInsecureTransport","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::{bucket}","arn:aws:s3:::{bucket}/*"],"Condition":{{"Bool":{{"aws:SecureTransport":"false"}}}}}}]}}"#
    )
}

/// The stack's dashboard: the runner's per-phase metrics (namespace `Pipectl`: duration,
/// queue wait, attempts and Spot interruptions as the jobs' state, estimated cost), FSx
/// throughput, the CPU and memory of each compute environment's ECS cluster, and GPU
/// utilisation where the CloudWatch agent publishes it.
fn dashboard_body(ctx: &Ctx) -> String {
    use pipectl_aws::metric_schema as m;
    use serde_json::{Value, json};
    let region = &ctx.aws.region;
    let stack = &ctx.stack;
    let per_phase = |metric: &str| -> Vec<Value> {
        ctx.spec
            .phases
            .iter()
            .map(|p| json!([m::NAMESPACE, metric, m::STACK, stack, m::PHASE, p.name]))
            .collect()
    };
    let widget = |x: u32, y: u32, title: String, stat: &str, metrics: Vec<Value>| {
        json!({"type": "metric", "x": x, "y": y, "width": 12, "height": 6,
               "properties": {"title": title, "region": region, "stat": stat, "period": 300,
                              "view": "timeSeries", "metrics": metrics}})
    };
    let mut widgets = vec![
        widget(
            0,
            0,
            format!("{stack}: phase run time (s)"),
            "Maximum",
            per_phase(m::PHASE_DURATION),
        ),
        widget(
            12,
            0,
            format!("{stack}: estimated compute cost (USD)"),
            "Sum",
            per_phase(m::ESTIMATED_COST),
        ),
        widget(
            0,
            6,
            format!("{stack}: queue wait (s)"),
            "Maximum",
            per_phase(m::QUEUE_WAIT),
        ),
        widget(
            12,
            6,
            format!("{stack}: job attempts and Spot interruptions"),
            "Sum",
            per_phase(m::ATTEMPTS)
                .into_iter()
                .chain(per_phase(m::SPOT_INTERRUPTIONS))
                .collect(),
        ),
    ];
    let mut y = 12;
    if let Some(fs) = ctx.output(&ResourceId::FileSystem) {
        let id = fs.physical_id;
        widgets.push(widget(
            0,
            y,
            "FSx for Lustre throughput (bytes)".into(),
            "Sum",
            vec![
                json!(["AWS/FSx", "DataReadBytes", "FileSystemId", id]),
                json!(["AWS/FSx", "DataWriteBytes", "FileSystemId", id]),
            ],
        ));
    }
    // Batch names each environment's ECS cluster after it; a search finds the cluster and
    // the instances' metrics without knowing their ids in advance.
    let search = |expr: String, id: &str| json!([{"expression": expr, "id": id, "period": 300}]);
    let ces: Vec<String> = ctx
        .spec
        .compute_environments
        .keys()
        .filter_map(|c| {
            ctx.output(&ResourceId::ComputeEnvironment(c.clone()))
                .map(|l| l.physical_id)
        })
        .collect();
    for (i, ce) in ces.iter().enumerate() {
        widgets.push(widget(
            if (i + 1) % 2 == 0 { 0 } else { 12 },
            y + 6 * (i as u32).div_ceil(2),
            format!("{ce}: ECS cluster CPU and memory (%)"),
            "Average",
            vec![
                search(format!("SEARCH('{{AWS/ECS,ClusterName}} MetricName=\"CPUUtilization\" {ce}', 'Average', 300)"), &format!("cpu{i}")),
                search(format!("SEARCH('{{AWS/ECS,ClusterName}} MetricName=\"MemoryUtilization\" {ce}', 'Average', 300)"), &format!("mem{i}")),
            ],
        ));
    }
    y += 6 * ((ces.len() as u32 + 2) / 2);
    let gpu = ctx.spec.phases.iter().any(|p| p.gpus > 0);
    if gpu {
        widgets.push(widget(
            0,
            y,
            "GPU utilisation (%) (CloudWatch agent nvidia_smi on the instances)".into(),
            "Average",
            vec![search(
                "SEARCH('{CWAgent,InstanceId} MetricName=\"nvidia_smi_utilization_gpu\"', 'Average', 60)".into(),
                "gpu",
            )],
        ));
    }
    // What the jobs themselves publish (the example workload: loss, latency, memory, cost so
    // far), whatever the metric, per phase.
    widgets.push(widget(
        if gpu { 12 } else { 0 },
        y,
        format!(
            "{stack}: the workload's own metrics ({})",
            m::WORKLOAD_NAMESPACE
        ),
        "Maximum",
        vec![search(
            format!(
                "SEARCH('{{{},{},{}}} {}=\"{stack}\"', 'Maximum', 300)",
                m::WORKLOAD_NAMESPACE,
                m::STACK,
                m::PHASE,
                m::STACK
            ),
            "workload",
        )],
    ));
    json!({ "widgets": widgets }).to_string()
}

pub(crate) async fn create(ctx: &Ctx, r: &Resource) -> Result<Live, ProvisionError> {
    let id: &str = &r.id.to_string();
    match r.kind {
        Kind::FileSystem => {
            let f = ctx
                .spec
                .fsx
                .as_ref()
                .expect("graph has fsx only with [fsx]");
            let zone = ctx
                .spec
                .network
                .availability_zones
                .first()
                .cloned()
                .into_iter()
                .collect::<Vec<_>>();
            let subnet = ctx.subnets_for(&zone)?.into_iter().next().ok_or_else(|| {
                ProvisionError::refused(id, "no subnet to place the file system in", None)
            })?;
            let mut lustre = CreateFileSystemLustreConfiguration::builder()
                .deployment_type(LustreDeploymentType::from(f.deployment_type.as_aws()));
            if let Some(t) = f.throughput_per_tib {
                lustre = lustre.per_unit_storage_throughput(t as i32);
            }
            let req = ctx
                .aws
                .fsx
                .create_file_system()
                .file_system_type(FileSystemType::Lustre)
                // Without it FSx makes Lustre 2.10, which refuses data repository associations.
                .file_system_type_version(f.effective_lustre_version().as_aws())
                .storage_capacity(f.capacity.gib() as i32)
                .subnet_ids(subnet)
                .security_group_ids(ctx.dep(&ResourceId::SecurityGroup)?.physical_id)
                .lustre_configuration(lustre.build())
                .set_tags(Some(fsx_tags(ctx, id, &r.name)));
            let token = ctx.client_token(id, req.as_input());
            let out =
                req.client_request_token(token)
                    .send()
                    .await
                    .ctx(FSX, "CreateFileSystem", id)?;
            let fs = out
                .file_system()
                .and_then(|f| f.file_system_id())
                .unwrap_or_default()
                .to_string();
            ctx.emit(Event::Note { message: format!("{id}: {fs} is CREATING; FSx for Lustre takes minutes on AWS, the rest is built meanwhile") });
            wait_fsx(ctx, id, &fs, false).await
        }
        Kind::DataRepositoryAssociation => {
            let Payload::DataRepositoryAssociation { index, bucket } = &r.payload else {
                unreachable!("a data repository association's payload")
            };
            let f = ctx
                .spec
                .fsx
                .as_ref()
                .expect("graph has fsx only with [fsx]");
            let repo = &f.data_repositories[*index];
            let bucket = ctx.dep(bucket)?.physical_id;
            let fs = ctx.dep(&ResourceId::FileSystem)?.physical_id;
            let prefix = repo.prefix.trim_matches('/');
            let path = if prefix.is_empty() {
                format!("s3://{bucket}/")
            } else {
                format!("s3://{bucket}/{prefix}/")
            };
            let events = [EventType::New, EventType::Changed, EventType::Deleted];
            let mut s3cfg = S3DataRepositoryConfiguration::builder();
            if repo.import {
                s3cfg = s3cfg.auto_import_policy(
                    AutoImportPolicy::builder()
                        .set_events(Some(events.to_vec()))
                        .build(),
                );
            }
            if repo.export {
                s3cfg = s3cfg.auto_export_policy(
                    AutoExportPolicy::builder()
                        .set_events(Some(events.to_vec()))
                        .build(),
                );
            }
            let req = ctx
                .aws
                .fsx
                .create_data_repository_association()
                .file_system_id(&fs)
                .file_system_path(&repo.file_system_path)
                .data_repository_path(&path)
                .batch_import_meta_data_on_create(repo.import)
                .s3(s3cfg.build())
                .set_tags(Some(fsx_tags(ctx, id, &r.name)));
            let token = ctx.client_token(id, req.as_input());
            let out = req.client_request_token(token).send().await.ctx(
                FSX,
                "CreateDataRepositoryAssociation",
                id,
            )?;
            let dra = out
                .association()
                .and_then(|a| a.association_id())
                .unwrap_or_default()
                .to_string();
            wait_dra(ctx, id, &dra).await?;
            Ok(Live::new(dra, "AVAILABLE").attr("path", &repo.file_system_path))
        }
        Kind::Bucket => {
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
            update(ctx, r, &live, &all).await
        }
        Kind::Dashboard => {
            let name = r.name.clone();
            ctx.aws
                .cloudwatch
                .put_dashboard()
                .dashboard_name(&name)
                .dashboard_body(dashboard_body(ctx))
                .send()
                .await
                .ctx("cloudwatch", "PutDashboard", id)?;
            Ok(Live::new(name, "exists"))
        }
        _ => unreachable!("not a storage kind: {:?}", r.kind),
    }
}

pub(crate) async fn update(
    ctx: &Ctx,
    r: &Resource,
    live: &Live,
    drifts: &[Drift],
) -> Result<Live, ProvisionError> {
    if r.kind != Kind::Bucket {
        return Ok(live.clone());
    }
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
                let cfg = PublicAccessBlockConfiguration::builder()
                    .block_public_acls(true)
                    .ignore_public_acls(true)
                    .block_public_policy(true)
                    .restrict_public_buckets(true)
                    .build();
                s3.put_public_access_block()
                    .bucket(name)
                    .public_access_block_configuration(cfg)
                    .send()
                    .await
                    .ctx(S3, "PutPublicAccessBlock", id)?;
                live = live.attr("public-access-blocked", "true");
            }
            "default encryption" => {
                let rule = ServerSideEncryptionRule::builder()
                    .apply_server_side_encryption_by_default(
                        ServerSideEncryptionByDefault::builder()
                            .sse_algorithm(ServerSideEncryption::Aes256)
                            .build()
                            .expect("set"),
                    )
                    .bucket_key_enabled(true)
                    .build();
                s3.put_bucket_encryption()
                    .bucket(name)
                    .server_side_encryption_configuration(
                        ServerSideEncryptionConfiguration::builder()
                            .rules(rule)
                            .build()
                            .expect("set"),
                    )
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
                let rule = OwnershipControlsRule::builder()
                    .object_ownership(ObjectOwnership::BucketOwnerEnforced)
                    .build()
                    .expect("set");
                s3.put_bucket_ownership_controls()
                    .bucket(name)
                    .ownership_controls(
                        OwnershipControls::builder()
                            .rules(rule)
                            .build()
                            .expect("set"),
                    )
                    .send()
                    .await
                    .ctx(S3, "PutBucketOwnershipControls", id)?;
            }
            "versioning" => {
                let want = ctx.spec.buckets[key_of(r)].versioning;
                if want || live.get("versioning") == "true" {
                    let status = if want {
                        BucketVersioningStatus::Enabled
                    } else {
                        BucketVersioningStatus::Suspended
                    };
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

pub(crate) async fn delete(ctx: &Ctx, o: &Observed, keep_data: bool) -> Result<(), ProvisionError> {
    let id = o.logical.as_str();
    let pid = o.live.physical_id.as_str();
    match o.kind {
        Kind::FileSystem => {
            if matches!(o.live.state.as_str(), "CREATING" | "UPDATING") {
                // FSx refuses to delete a file system it is still creating (an interrupted `up`).
                if let Err(e) = wait_fsx(ctx, id, pid, false).await
                    && !matches!(
                        e,
                        ProvisionError::Wait {
                            source: pipectl_aws::wait::WaitError::Failed { .. },
                            ..
                        }
                    )
                {
                    return Err(e);
                }
            }
            if o.live.state != "DELETING" {
                // No final backup: scratch file systems cannot have one, and the data lives in S3.
                let req = ctx.aws.fsx.delete_file_system().file_system_id(pid);
                let token = ctx.client_token("fsx-delete", req.as_input());
                let r =
                    req.client_request_token(token)
                        .send()
                        .await
                        .ctx(FSX, "DeleteFileSystem", id);
                found(r)?;
            }
            wait_fsx(ctx, id, pid, true).await.map(drop)
        }
        Kind::DataRepositoryAssociation => {
            // Deleted with its file system; on its own only when the file system stays.
            found(
                ctx.aws
                    .fsx
                    .delete_data_repository_association()
                    .association_id(pid)
                    .delete_data_in_file_system(false)
                    .send()
                    .await
                    .ctx(FSX, "DeleteDataRepositoryAssociation", id),
            )?;
            Ok(())
        }
        Kind::Bucket => {
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
        Kind::Dashboard => {
            found(
                ctx.aws
                    .cloudwatch
                    .delete_dashboards()
                    .dashboard_names(pid)
                    .send()
                    .await
                    .ctx("cloudwatch", "DeleteDashboards", id),
            )?;
            Ok(())
        }
        _ => unreachable!("not a storage kind: {:?}", o.kind),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

pub(crate) struct Storage;

impl Handler for Storage {
    async fn observe(ctx: &Ctx) -> Result<Vec<Observed>, ProvisionError> {
        observe(ctx).await
    }
    fn drift(ctx: &Ctx, r: &Resource, live: &Live) -> Vec<Drift> {
        drift(ctx, r, live)
    }
    async fn create(ctx: &Ctx, r: &Resource) -> Result<Live, ProvisionError> {
        create(ctx, r).await
    }
    async fn update(
        ctx: &Ctx,
        r: &Resource,
        live: &Live,
        drifts: &[Drift],
    ) -> Result<Live, ProvisionError> {
        update(ctx, r, live, drifts).await
    }
    async fn delete(ctx: &Ctx, o: &Observed, keep_data: bool) -> Result<(), ProvisionError> {
        delete(ctx, o, keep_data).await
    }
    async fn settle(ctx: &Ctx, r: &Resource, live: &Live) -> Result<Live, ProvisionError> {
        settle(ctx, r, live).await
    }
}
