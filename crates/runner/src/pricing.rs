//! What a run's Spot capacity actually cost: EC2's Spot price history for the instance type
//! and zones a phase could run in, over the hours its attempts ran, integrated second by
//! second (`pipectl_metering::spot`). Batch does not say which zone a job's instance was in,
//! so with several zones the highest of their averages is taken, and said.

use aws_sdk_ec2::primitives::DateTime;
use pipectl_aws::{Aws, AwsError, ResultExt};
use pipectl_metering::PriceSheet;
use pipectl_metering::estimate::place;
use pipectl_metering::reconcile::MeasuredRate;
use pipectl_metering::spot::{PricePoint, average_rate};
use pipectl_spec::Spec;
use pipectl_spec::model::Purchase;

use pipectl_record::RunRecord;

/// The history of one type's Spot price per zone, from AWS, over `[start_ms, end_ms]` (AWS
/// adds the price in effect at the start).
pub async fn spot_price_history(
    aws: &Aws,
    instance_type: &str,
    zones: &[String],
    start_ms: i64,
    end_ms: i64,
) -> Result<Vec<(String, Vec<PricePoint>)>, AwsError> {
    let mut by_zone: Vec<(String, Vec<PricePoint>)> = Vec::new();
    let mut pages = aws
        .ec2
        .describe_spot_price_history()
        .instance_types(instance_type.into())
        .product_descriptions("Linux/UNIX")
        .start_time(DateTime::from_millis(start_ms))
        .end_time(DateTime::from_millis(end_ms))
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.ctx("ec2", "DescribeSpotPriceHistory", instance_type)?;
        for p in page.spot_price_history() {
            let (Some(zone), Some(price), Some(at)) =
                (p.availability_zone(), p.spot_price(), p.timestamp())
            else {
                continue;
            };
            if !zones.is_empty() && !zones.iter().any(|z| z == zone) {
                continue;
            }
            let Ok(usd) = price.parse::<f64>() else {
                continue;
            };
            let point = PricePoint {
                at_ms: at.to_millis().unwrap_or(0),
                usd,
            };
            match by_zone.iter_mut().find(|(z, _)| z == zone) {
                Some((_, v)) => v.push(point),
                None => by_zone.push((zone.to_string(), vec![point])),
            }
        }
    }
    Ok(by_zone)
}

/// Each Spot phase of `rec` with what it paid, or why the sheet's rate stands.
pub async fn measured_spot_rates(
    aws: &Aws,
    spec: &Spec,
    prices: &PriceSheet,
    rec: &RunRecord,
) -> Vec<(String, Result<MeasuredRate, String>)> {
    let mut out = Vec::new();
    for p in &rec.phases {
        let Some(phase) = spec.phase(&p.name) else {
            continue;
        };
        let Some(pl) = place(spec, phase, prices).filter(|pl| pl.purchase == Purchase::Spot) else {
            continue;
        };
        let windows: Vec<(i64, i64)> = p
            .attempts
            .iter()
            .map(|a| (a.started_at_ms, a.stopped_at_ms))
            .collect();
        let (Some(start), Some(end)) = (
            windows.iter().map(|w| w.0).min(),
            windows.iter().map(|w| w.1).max(),
        ) else {
            continue;
        };
        let zones: Vec<String> = spec
            .job_queues
            .get(&phase.queue)
            .into_iter()
            .flat_map(|q| &q.compute_environments)
            .filter_map(|c| spec.compute_environments.get(c))
            .flat_map(|ce| spec.ce_zones(ce).to_vec())
            .collect();
        let t = &pl.instance_type;
        let result = match spot_price_history(aws, t, &zones, start, end).await {
            Err(e) => Err(format!(
                "Spot price history not reachable ({e}): the sheet's rate"
            )),
            Ok(history) => {
                let mut rates: Vec<(String, f64)> = history
                    .iter()
                    .filter_map(|(z, pts)| average_rate(pts, &windows).map(|r| (z.clone(), r)))
                    .collect();
                rates.sort_by(|a, b| b.1.total_cmp(&a.1));
                match rates.as_slice() {
                    [] => Err(format!(
                        "no Spot price history for {t} in {} over the run: the sheet's rate",
                        if zones.is_empty() {
                            "the region".to_string()
                        } else {
                            zones.join(", ")
                        }
                    )),
                    [(z, r)] => Ok(MeasuredRate {
                        usd: *r,
                        note: format!("Spot price history of {t} in {z} over the attempts"),
                    }),
                    [(z, r), rest @ ..] => Ok(MeasuredRate {
                        usd: *r,
                        note: format!(
                            "Spot price history of {t} over the attempts; zone not recorded by \
                             Batch: the highest of {z} ({r:.4}) and {}",
                            rest.iter()
                                .map(|(z, r)| format!("{z} ({r:.4})"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    }),
                }
            }
        };
        out.push((p.name.clone(), result));
    }
    out
}
