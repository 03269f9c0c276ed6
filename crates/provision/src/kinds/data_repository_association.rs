//! A data repository association: links a path of the file system to a bucket (import,
//! export or both). Found with its file system (see [`super::file_system`]).

use aws_sdk_fsx::types::{
    AutoExportPolicy, AutoImportPolicy, EventType, S3DataRepositoryConfiguration,
};
use pipectl_aws::ResultExt;
use pipectl_aws::wait::Probe;
use pipectl_spec::graph::{Payload, Resource, ResourceId};

use super::fsx_tags::{FSX, fsx_tags};
use super::{Handler, Observed};
use crate::ctx::{Ctx, Drift, Event, Live};
use crate::error::ProvisionError;
use crate::wait::{found, wait_for};

pub(crate) struct DataRepositoryAssociation;

impl Handler for DataRepositoryAssociation {
    /// None of its own: the file system's listing finds them.
    async fn observe(_ctx: &Ctx) -> Result<Vec<Observed>, ProvisionError> {
        Ok(Vec::new())
    }

    fn drift(_ctx: &Ctx, _r: &Resource, _live: &Live) -> Vec<Drift> {
        Vec::new()
    }

    async fn create(ctx: &Ctx, r: &Resource) -> Result<Live, ProvisionError> {
        let id: &str = &r.id.to_string();
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
        // CreateDataRepositoryAssociation needs the file system AVAILABLE; `up` counts it in
        // place once created, so the association waits for it here.
        ctx.emit(Event::Note {
            message: format!("{id}: waits for {fs} to be AVAILABLE"),
        });
        super::file_system::wait_available(ctx, id, &fs).await?;
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

    async fn delete(ctx: &Ctx, o: &Observed, _keep_data: bool) -> Result<(), ProvisionError> {
        let id = o.logical.as_str();
        let pid = o.live.physical_id.as_str();
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

    fn unsettled(live: &Live) -> bool {
        matches!(live.state.as_str(), "CREATING" | "UPDATING")
    }

    fn leaving(live: &Live) -> bool {
        live.state == "DELETING"
    }

    /// Waits for an association an interrupted `up` left CREATING until it is usable.
    async fn settle(ctx: &Ctx, r: &Resource, live: &Live) -> Result<Live, ProvisionError> {
        match live.state.as_str() {
            "CREATING" | "UPDATING" => {
                wait_dra(ctx, &r.id.to_string(), &live.physical_id).await?;
                Ok(Live {
                    state: "AVAILABLE".into(),
                    ..live.clone()
                })
            }
            _ => Ok(live.clone()),
        }
    }
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
