//! Price sheets: USD list prices (or a document's own prices) by SKU, each with its source and
//! date, read from TOML (`infra-specs/prices/*.toml`).
//!
//! A price that is not in the sheet is `None`, and the cost model reports the item as
//! unpriced: a missing SKU is never $0.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

mod interruption;
pub use interruption::SpotInterruption;

use pipectl_record::RecordedPrices;
use pipectl_spec::{Diagnostics, Finding, LoadError, path};

/// Hours in AWS's billing month (365 × 24 / 12).
pub const HOURS_PER_MONTH: f64 = 730.0;

/// A price sheet (TOML): the prices every cost figure is computed from, each citable.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PriceSheet {
    /// The sheet's name, region, date and default source (`[sheet]`).
    pub sheet: SheetInfo,
    /// EC2 instance prices (`[ec2]`).
    #[serde(default)]
    pub ec2: Ec2Prices,
    /// By deployment type, and `PERSISTENT_x/<MB/s per TiB>` for persistent tiers; per GB-month.
    #[serde(default)]
    pub fsx_lustre: IndexMap<String, Price>,
    /// S3 prices (`[s3]`).
    #[serde(default)]
    pub s3: S3Prices,
    /// Data transfer prices (`[data_transfer]`).
    #[serde(default)]
    pub data_transfer: TransferPrices,
    /// NAT gateway and VPC endpoint prices (`[vpc]`).
    #[serde(default)]
    pub vpc: VpcPrices,
}

/// The sheet's `[sheet]` table.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SheetInfo {
    /// The sheet's name, cited in outputs and run records.
    pub name: String,
    /// The AWS region its prices are for.
    pub region: String,
    /// When the prices were read (YYYY-MM-DD); the default date of every price.
    pub date: String,
    /// Default source of every price.
    pub source: String,
    /// Where the sheet was loaded from (filled in on load; not part of the sheet's data, so a
    /// sheet stored in a run record reads back).
    #[serde(default, skip)]
    pub path: Option<PathBuf>,
}

/// One price, citable: its own source and date override the sheet's.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Price {
    /// USD, in the unit of the table it is in (instance-hour, GB-month, GB, ...).
    pub usd: f64,
    /// Where it was read; `None`: the sheet's source.
    #[serde(default)]
    pub source: Option<String>,
    /// When it was read (YYYY-MM-DD); `None`: the sheet's date.
    #[serde(default)]
    pub date: Option<String>,
    /// A remark shown with it; `None` when there is none.
    #[serde(default)]
    pub note: Option<String>,
}

/// The sheet's `[ec2]` tables, keyed by instance type.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Ec2Prices {
    /// USD per instance-hour, Linux, by instance type.
    #[serde(default)]
    pub on_demand: IndexMap<String, Price>,
    /// Spot, USD per instance-hour, by instance type.
    #[serde(default)]
    pub spot: IndexMap<String, Price>,
    /// Used for Spot when a type has no Spot price: a stated assumption, labelled as such.
    #[serde(default)]
    pub spot_estimate: Option<SpotEstimate>,
    /// How often Spot interrupts: an assumption `advise` prices fallbacks with.
    #[serde(default)]
    pub spot_interruption: Option<SpotInterruption>,
    /// Effective hourly rates of commitments (Linux, no upfront), by term and instance type:
    /// billed for every hour of the term whether an instance runs or not.
    #[serde(default)]
    pub reserved_1yr: IndexMap<String, Price>,
    /// Reserved Instances, 3-year term, by instance type.
    #[serde(default)]
    pub reserved_3yr: IndexMap<String, Price>,
    /// Savings Plans, 1-year term, by instance type.
    #[serde(default)]
    pub savings_plan_1yr: IndexMap<String, Price>,
    /// Savings Plans, 3-year term, by instance type.
    #[serde(default)]
    pub savings_plan_3yr: IndexMap<String, Price>,
}

/// A way of buying instance-hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Offer {
    /// Spot capacity, billed per second at the Spot price.
    Spot,
    /// On-Demand capacity, billed per second.
    OnDemand,
    /// Reserved Instances, 1-year term.
    Reserved1yr,
    /// Reserved Instances, 3-year term.
    Reserved3yr,
    /// Savings Plan, 1-year term.
    SavingsPlan1yr,
    /// Savings Plan, 3-year term.
    SavingsPlan3yr,
}

impl Offer {
    /// Every offer, in the order tables show them.
    pub const ALL: [Offer; 6] = [
        Offer::Spot,
        Offer::OnDemand,
        Offer::Reserved1yr,
        Offer::Reserved3yr,
        Offer::SavingsPlan1yr,
        Offer::SavingsPlan3yr,
    ];
    /// Paid for every hour of a term (730 hours a month), used or not.
    pub fn is_commitment(self) -> bool {
        !matches!(self, Offer::Spot | Offer::OnDemand)
    }
    /// The name people read (`Savings Plan 1-yr`).
    pub fn label(self) -> &'static str {
        match self {
            Offer::Spot => "Spot",
            Offer::OnDemand => "On-Demand",
            Offer::Reserved1yr => "Reserved 1-yr",
            Offer::Reserved3yr => "Reserved 3-yr",
            Offer::SavingsPlan1yr => "Savings Plan 1-yr",
            Offer::SavingsPlan3yr => "Savings Plan 3-yr",
        }
    }
}

/// The Spot price assumed where the sheet has none for a type.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SpotEstimate {
    /// Spot as a fraction of On-Demand (0.3 = 30 %).
    pub fraction_of_on_demand: f64,
    /// Where that fraction comes from.
    pub source: String,
}

/// The sheet's `[s3]` table.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct S3Prices {
    /// S3 Standard, per GB-month.
    #[serde(default)]
    pub standard: Option<Price>,
}

/// The sheet's `[data_transfer]` table.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TransferPrices {
    /// Data transfer out to the internet, per GB.
    #[serde(default)]
    pub out_to_internet: Option<Price>,
    /// GB per month free across the account (applied only when asked for).
    #[serde(default)]
    pub free_allowance_gb: Option<f64>,
}

/// The sheet's `[vpc]` table.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct VpcPrices {
    /// NAT gateway, per hour.
    #[serde(default)]
    pub nat_gateway_hour: Option<Price>,
    /// NAT gateway data processed, per GB.
    #[serde(default)]
    pub nat_gateway_gb: Option<Price>,
    /// Per endpoint per availability zone per hour.
    #[serde(default)]
    pub interface_endpoint_hour: Option<Price>,
}

/// One price of a sheet, as an input a what-if analysis can vary.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", content = "key", rename_all = "kebab-case")]
pub enum PriceKey {
    /// An EC2 On-Demand price, by instance type.
    OnDemand(String),
    /// An EC2 Spot price, by instance type.
    Spot(String),
    /// An FSx for Lustre price, by the sheet's key.
    Fsx(String),
    /// S3 Standard storage.
    S3Standard,
    /// Data transfer out to the internet.
    TransferOut,
    /// NAT gateway hours.
    NatHour,
    /// NAT gateway data processed.
    NatGb,
}

impl std::fmt::Display for PriceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PriceKey::OnDemand(t) => write!(f, "{t} On-Demand price"),
            PriceKey::Spot(t) => write!(f, "{t} Spot price"),
            PriceKey::Fsx(k) => write!(f, "FSx {k} price"),
            PriceKey::S3Standard => f.write_str("S3 Standard price"),
            PriceKey::TransferOut => f.write_str("transfer-out price"),
            PriceKey::NatHour => f.write_str("NAT gateway hourly price"),
            PriceKey::NatGb => f.write_str("NAT gateway per-GB price"),
        }
    }
}

/// A price resolved against the sheet's defaults, ready to cite.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rate {
    /// USD, in the unit of the table it came from.
    pub usd: f64,
    /// Where it was read (the price's own, else the sheet's).
    pub source: String,
    /// When it was read (YYYY-MM-DD; the price's own, else the sheet's).
    pub date: String,
    /// True when the figure is an assumption (Spot estimated from On-Demand).
    pub assumed: bool,
}

impl PriceSheet {
    /// Loads a sheet; syntax and schema errors are located like spec errors.
    pub fn load(path: &Path) -> Result<PriceSheet, LoadError> {
        let text = pipectl_spec::load::read_text(path)?;
        Self::parse(path, text)
    }

    /// Parses a sheet's text (`path` locates errors); errors are located like spec errors.
    pub fn parse(path: &Path, text: String) -> Result<PriceSheet, LoadError> {
        let (mut sheet, map, text) = pipectl_spec::load::parse_toml::<PriceSheet>(path, text)?;
        sheet.sheet.path = Some(path.to_path_buf());
        let mut findings = sheet.check();
        if findings.is_empty() {
            return Ok(sheet);
        }
        for f in &mut findings {
            f.locate(&map, &text);
        }
        Err(LoadError::Invalid(Box::new(Diagnostics {
            file: path.into(),
            text,
            findings,
        })))
    }

    /// Every price must be a finite, non-negative amount (a typo of `-0.5` must not lower a
    /// total); a Spot fraction must lie in (0, 1].
    fn check(&self) -> Vec<Finding> {
        let mut out = Vec::new();
        let mut price = |at: pipectl_spec::source::Path, p: &Price| {
            if !(p.usd.is_finite() && p.usd >= 0.0) {
                out.push(Finding::error(
                    "bad-price",
                    at.at("usd"),
                    format!("price {} is not a non-negative amount of USD", p.usd),
                ));
            }
        };
        for (k, p) in &self.ec2.on_demand {
            price(path!["ec2", "on_demand", k], p);
        }
        for (table, name) in [
            (&self.ec2.spot, "spot"),
            (&self.ec2.reserved_1yr, "reserved_1yr"),
            (&self.ec2.reserved_3yr, "reserved_3yr"),
            (&self.ec2.savings_plan_1yr, "savings_plan_1yr"),
            (&self.ec2.savings_plan_3yr, "savings_plan_3yr"),
        ] {
            for (k, p) in table {
                price(path!["ec2", name, k], p);
            }
        }
        for (k, p) in &self.fsx_lustre {
            price(path!["fsx_lustre", k], p);
        }
        let singles = [
            (path!["s3", "standard"], &self.s3.standard),
            (
                path!["data_transfer", "out_to_internet"],
                &self.data_transfer.out_to_internet,
            ),
            (path!["vpc", "nat_gateway_hour"], &self.vpc.nat_gateway_hour),
            (path!["vpc", "nat_gateway_gb"], &self.vpc.nat_gateway_gb),
            (
                path!["vpc", "interface_endpoint_hour"],
                &self.vpc.interface_endpoint_hour,
            ),
        ];
        for (at, p) in singles {
            if let Some(p) = p {
                price(at, p);
            }
        }
        if let Some(i) = &self.ec2.spot_interruption {
            i.check(&mut out);
        }
        if let Some(est) = &self.ec2.spot_estimate {
            let f = est.fraction_of_on_demand;
            if !(f > 0.0 && f <= 1.0) {
                out.push(Finding::error(
                    "bad-price",
                    path!["ec2", "spot_estimate", "fraction_of_on_demand"],
                    format!("{f} is not a fraction in (0, 1]"),
                ));
            }
        }
        out
    }

    fn rate(&self, p: &Price) -> Rate {
        Rate {
            usd: p.usd,
            source: p
                .source
                .clone()
                .unwrap_or_else(|| self.sheet.source.clone()),
            date: p.date.clone().unwrap_or_else(|| self.sheet.date.clone()),
            assumed: false,
        }
    }

    /// The sheet as a run record keeps it (everything but where it was loaded from).
    pub fn to_recorded(&self) -> RecordedPrices {
        RecordedPrices(serde_json::to_value(self).expect("a price sheet serialises"))
    }

    /// The sheet a run record kept.
    pub fn from_recorded(recorded: &RecordedPrices) -> Result<PriceSheet, String> {
        serde_json::from_value(recorded.0.clone()).map_err(|e| format!("its price sheet: {e}"))
    }

    /// The On-Demand rate of an instance type; `None` when the sheet has none.
    pub fn on_demand(&self, instance_type: &str) -> Option<Rate> {
        self.ec2.on_demand.get(instance_type).map(|p| self.rate(p))
    }

    /// The Spot price of a type: the sheet's, else its assumption applied to On-Demand.
    pub fn spot(&self, instance_type: &str) -> Option<Rate> {
        if let Some(p) = self.ec2.spot.get(instance_type) {
            return Some(self.rate(p));
        }
        let est = self.ec2.spot_estimate.as_ref()?;
        let od = self.on_demand(instance_type)?;
        Some(Rate {
            usd: od.usd * est.fraction_of_on_demand,
            source: format!(
                "{:.0}% of On-Demand: {}",
                est.fraction_of_on_demand * 100.0,
                est.source
            ),
            date: od.date,
            assumed: true,
        })
    }

    /// This sheet with one price multiplied by `factor`. A Spot price the sheet only estimates
    /// becomes an explicit one (the estimate × `factor`), so the On-Demand price stays as is.
    pub fn scaled(&self, key: &PriceKey, factor: f64) -> PriceSheet {
        let mut s = self.clone();
        let scale = |p: &mut Price| p.usd *= factor;
        match key {
            PriceKey::OnDemand(t) => s.ec2.on_demand.get_mut(t).map(scale).unwrap_or_default(),
            PriceKey::Spot(t) => {
                if let Some(p) = s.ec2.spot.get_mut(t) {
                    scale(p);
                } else if let Some(r) = self.spot(t) {
                    s.ec2.spot.insert(
                        t.clone(),
                        Price {
                            usd: r.usd * factor,
                            source: Some(r.source),
                            date: Some(r.date),
                            note: None,
                        },
                    );
                }
            }
            PriceKey::Fsx(k) => s.fsx_lustre.get_mut(k).map(scale).unwrap_or_default(),
            PriceKey::S3Standard => s.s3.standard.as_mut().map(scale).unwrap_or_default(),
            PriceKey::TransferOut => s
                .data_transfer
                .out_to_internet
                .as_mut()
                .map(scale)
                .unwrap_or_default(),
            PriceKey::NatHour => s
                .vpc
                .nat_gateway_hour
                .as_mut()
                .map(scale)
                .unwrap_or_default(),
            PriceKey::NatGb => s.vpc.nat_gateway_gb.as_mut().map(scale).unwrap_or_default(),
        }
        s
    }

    /// The hourly rate of `instance_type` bought as `offer`.
    pub fn offer(&self, offer: Offer, instance_type: &str) -> Option<Rate> {
        let table = match offer {
            Offer::Spot => return self.spot(instance_type),
            Offer::OnDemand => return self.on_demand(instance_type),
            Offer::Reserved1yr => &self.ec2.reserved_1yr,
            Offer::Reserved3yr => &self.ec2.reserved_3yr,
            Offer::SavingsPlan1yr => &self.ec2.savings_plan_1yr,
            Offer::SavingsPlan3yr => &self.ec2.savings_plan_3yr,
        };
        table.get(instance_type).map(|p| self.rate(p))
    }

    /// FSx for Lustre per GB-month for a deployment type and, for persistent types, its tier.
    pub fn fsx(&self, deployment: &str, per_tib: Option<u32>) -> Option<Rate> {
        let key = match per_tib {
            Some(t) if deployment.starts_with("PERSISTENT") => format!("{deployment}/{t}"),
            _ => deployment.to_string(),
        };
        self.fsx_lustre.get(&key).map(|p| self.rate(p))
    }

    /// S3 Standard, per GB-month; `None` when the sheet has none.
    pub fn s3_standard(&self) -> Option<Rate> {
        self.s3.standard.as_ref().map(|p| self.rate(p))
    }
    /// Transfer out to the internet, per GB; `None` when the sheet has none.
    pub fn transfer_out(&self) -> Option<Rate> {
        self.data_transfer
            .out_to_internet
            .as_ref()
            .map(|p| self.rate(p))
    }
    /// NAT gateway, per hour; `None` when the sheet has none.
    pub fn nat_hour(&self) -> Option<Rate> {
        self.vpc.nat_gateway_hour.as_ref().map(|p| self.rate(p))
    }
    /// NAT gateway data processed, per GB; `None` when the sheet has none.
    pub fn nat_gb(&self) -> Option<Rate> {
        self.vpc.nat_gateway_gb.as_ref().map(|p| self.rate(p))
    }
    /// One interface endpoint in one zone, per hour; `None` when the sheet has none.
    pub fn endpoint_hour(&self) -> Option<Rate> {
        self.vpc
            .interface_endpoint_hour
            .as_ref()
            .map(|p| self.rate(p))
    }
}

/// Price sheets compiled into the binary, by region, so `pipectl cost` works from anywhere.
const BUILTIN: &[(&str, &str, &str)] = &[(
    "us-east-1",
    "infra-specs/prices/us-east-1.toml",
    include_str!("../../../infra-specs/prices/us-east-1.toml"),
)];

/// The built-in list-price sheet for `region`, if there is one.
pub fn builtin(region: &str) -> Option<Result<PriceSheet, LoadError>> {
    BUILTIN
        .iter()
        .find(|(r, _, _)| *r == region)
        .map(|(_, path, text)| {
            PriceSheet::parse(Path::new(&format!("(built-in) {path}")), text.to_string())
        })
}

#[cfg(test)]
mod tests;
