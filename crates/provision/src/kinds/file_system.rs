//! The FSx for Lustre file system: started first (it is the slowest to become available),
//! in the first zone's subnet and the stack's security group. Its data repository
//! associations are found through it.

use aws_sdk_fsx::types::{
    CreateFileSystemLustreConfiguration, FileSystemLifecycle, FileSystemType, LustreDeploymentType,
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
        let fs = out
            .file_system()
            .and_then(|f| f.file_system_id())
            .unwrap_or_default()
            .to_string();
        ctx.emit(Event::Note { message: format!("{id}: {fs} is CREATING; FSx for Lustre takes minutes on AWS, the rest is built meanwhile") });
        wait_fsx(ctx, id, &fs, false).await
    }

    async fn delete(ctx: &Ctx, o: &Observed, _keep_data: bool) -> Result<(), ProvisionError> {
        let id = o.logical.as_str();
        let pid = o.live.physical_id.as_str();
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
            let r = req
                .client_request_token(token)
                .send()
                .await
                .ctx(FSX, "DeleteFileSystem", id);
            found(r)?;
        }
        wait_fsx(ctx, id, pid, true).await.map(drop)
    }

    fn unsettled(live: &Live) -> bool {
        matches!(live.state.as_str(), "CREATING" | "UPDATING")
    }

    fn leaving(live: &Live) -> bool {
        live.state == "DELETING"
    }

    /// Waits until a file system found DELETING is gone.
    async fn gone(ctx: &Ctx, r: &Resource, live: &Live) -> Result<(), ProvisionError> {
        wait_fsx(ctx, &r.id.to_string(), &live.physical_id, true)
            .await
            .map(drop)
    }

    /// Waits for a file system an interrupted `up` left CREATING until dependents can use it.
    async fn settle(ctx: &Ctx, r: &Resource, live: &Live) -> Result<Live, ProvisionError> {
        match live.state.as_str() {
            "CREATING" | "UPDATING" => {
                wait_fsx(ctx, &r.id.to_string(), &live.physical_id, false).await
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
                        .map(std::string::ToString::to_string)
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
                        f.creation_time()
                            .map(std::string::ToString::to_string)
                            .unwrap_or_default(),
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
