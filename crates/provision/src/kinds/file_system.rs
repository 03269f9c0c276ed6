//! The FSx for Lustre file system: started first (it is the slowest to become available),
//! in the first zone's subnet and the stack's security group. `up` counts it in place once
//! created (CREATING, with its DNS and mount names): what mounts it is built meanwhile, and
//! only what needs it AVAILABLE waits for that. Its data repository associations are found
//! through it.

use aws_sdk_fsx::types::{
    CreateFileSystemLustreConfiguration, FileSystem as Described, FileSystemLifecycle,
    FileSystemType, LustreDeploymentType,
};
use pipectl_aws::ResultExt;
use pipectl_aws::wait::Probe;
use pipectl_spec::graph::{Kind, Resource, ResourceId};

use super::fsx_tags::{FSX, fsx_owned, fsx_tags};
use super::{Handler, Observed};
use crate::ctx::{Ctx, Drift, Event, Live};
use crate::error::ProvisionError;
use crate::wait::{found, wait_for};

pub(crate) struct FileSystem;

impl Handler for FileSystem {
    /// The file systems and, for each one not on its way out, its data repository
    /// associations (listed by file system).
    async fn observe(ctx: &Ctx) -> Result<Vec<Observed>, ProvisionError> {
        observe_fsx(ctx).await
    }

    fn drift(ctx: &Ctx, _r: &Resource, live: &Live) -> Vec<Drift> {
        let mut d = Vec::new();
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
        d
    }

    async fn create(ctx: &Ctx, r: &Resource) -> Result<Live, ProvisionError> {
        let id: &str = &r.id.to_string();
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
        let out = req
            .client_request_token(token)
            .send()
            .await
            .ctx(FSX, "CreateFileSystem", id)?;
        let Some(made) = out.file_system() else {
            return Err(ProvisionError::refused(
                id,
                "CreateFileSystem answered without a file system",
                None,
            ));
        };
        let live = live_of(made);
        ctx.emit(Event::Note { message: format!("{id}: {} is {}; FSx for Lustre takes minutes on AWS, the rest is built meanwhile (only the data repository associations and `pipectl run` wait for it to be AVAILABLE)", live.physical_id, live.state) });
        if mountable(&live) {
            Ok(live)
        } else {
            wait_fsx(ctx, id, &live.physical_id, Until::Mountable).await
        }
    }

    async fn delete(ctx: &Ctx, o: &Observed, _keep_data: bool) -> Result<(), ProvisionError> {
        let id = o.logical.as_str();
        let pid = o.live.physical_id.as_str();
        if matches!(o.live.state.as_str(), "CREATING" | "UPDATING") {
            // FSx refuses to delete a file system it is still creating (an interrupted `up`).
            if let Err(e) = wait_fsx(ctx, id, pid, Until::Available).await
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
            let r = req
                .client_request_token(token)
                .send()
                .await
                .ctx(FSX, "DeleteFileSystem", id);
            found(r)?;
        }
        wait_fsx(ctx, id, pid, Until::Gone).await.map(drop)
    }

    fn unsettled(live: &Live) -> bool {
        matches!(live.state.as_str(), "CREATING" | "UPDATING")
    }

    fn leaving(live: &Live) -> bool {
        live.state == "DELETING"
    }

    /// Waits until a file system found DELETING is gone.
    async fn gone(ctx: &Ctx, r: &Resource, live: &Live) -> Result<(), ProvisionError> {
        wait_fsx(ctx, &r.id.to_string(), &live.physical_id, Until::Gone)
            .await
            .map(drop)
    }

    /// A file system an interrupted `up` left CREATING: what depends on it builds from its
    /// DNS and mount names, known while it is CREATING; only the data repository associations
    /// wait for it to be AVAILABLE (they wait themselves).
    async fn settle(ctx: &Ctx, r: &Resource, live: &Live) -> Result<Live, ProvisionError> {
        match live.state.as_str() {
            "CREATING" | "UPDATING" if !mountable(live) => {
                wait_fsx(ctx, &r.id.to_string(), &live.physical_id, Until::Mountable).await
            }
            _ => Ok(live.clone()),
        }
    }
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
            let live = live_of(fs);
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

/// A file system as pipectl records it: identity, lifecycle, what a client mounts it with,
/// and the settings drift compares.
fn live_of(f: &Described) -> Live {
    let lustre = f.lustre_configuration();
    Live::new(
        f.file_system_id().unwrap_or_default(),
        f.lifecycle().map_or("?", |l| l.as_str()),
    )
    .arn(f.resource_arn())
    .attr("dns", f.dns_name().unwrap_or_default())
    .attr(
        "mount-name",
        lustre.and_then(|l| l.mount_name()).unwrap_or_default(),
    )
    .attr(
        "capacity",
        format!("{}GiB", f.storage_capacity().unwrap_or(0)),
    )
    .attr(
        "deployment",
        lustre
            .and_then(|l| l.deployment_type())
            .map_or("", |d| d.as_str()),
    )
    .attr("lustre", f.file_system_type_version().unwrap_or_default())
    .attr(
        "created",
        f.creation_time()
            .map(std::string::ToString::to_string)
            .unwrap_or_default(),
    )
}

/// Whether a client could be told how to mount it: its DNS and mount names are known.
/// CreateFileSystem "returns the description of the file system" while its lifecycle is still
/// CREATING (https://docs.aws.amazon.com/fsx/latest/APIReference/API_CreateFileSystem.html);
/// that description (FileSystem,
/// https://docs.aws.amazon.com/fsx/latest/APIReference/API_FileSystem.html) carries DNSName
/// and LustreConfiguration.MountName, so launch templates are built from it without waiting
/// for AVAILABLE. Should an answer lack them, they are polled for, not the lifecycle.
fn mountable(live: &Live) -> bool {
    !live.get("dns").is_empty() && !live.get("mount-name").is_empty()
}

/// What [`wait_fsx`] waits for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Until {
    /// Its DNS and mount names known (any lifecycle but FAILED).
    Mountable,
    /// AVAILABLE: data repository associations can be created and clients mount it.
    Available,
    /// Gone.
    Gone,
}

/// Waits until the file system `fs` is AVAILABLE, for what needs it usable (a data
/// repository association); `id` is the waiter, named in progress and errors.
pub(crate) async fn wait_available(ctx: &Ctx, id: &str, fs: &str) -> Result<Live, ProvisionError> {
    wait_fsx(ctx, id, fs, Until::Available).await
}

async fn wait_fsx(ctx: &Ctx, id: &str, fs: &str, until: Until) -> Result<Live, ProvisionError> {
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
            return Ok(if until == Until::Gone {
                Probe::Done(Live::default())
            } else {
                Probe::Pending("not visible yet".into())
            });
        };
        let live = live_of(f);
        Ok(match f.lifecycle() {
            Some(FileSystemLifecycle::Failed) => Probe::Failed(format!(
                "FAILED: {}",
                f.failure_details()
                    .and_then(|d| d.message())
                    .unwrap_or("no reason given")
            )),
            Some(FileSystemLifecycle::Available) if until == Until::Available => Probe::Done(live),
            _ if until == Until::Mountable && mountable(&live) => Probe::Done(live),
            Some(l) => Probe::Pending(l.as_str().to_string()),
            None => Probe::Pending("unknown".into()),
        })
    })
    .await
}
