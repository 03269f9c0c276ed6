//! parse + validate + estimate of the seed spec, beside a baseline of TOML parsing alone
//! (the least any tool reading the file must do). `cargo bench -p pipectl-metering`.

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use pipectl_metering::{Options, PriceSheet, estimate};

const SEED: &str = include_str!("../../../infra-specs/two-hour-pipeline.toml");
const PRICES: &str = include_str!("../../../infra-specs/prices/us-east-1.toml");

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("seed-spec");
    g.bench_function("baseline: toml parse only", |b| {
        b.iter(|| black_box(toml::from_str::<toml::Table>(black_box(SEED)).unwrap()));
    });
    g.bench_function("parse + validate", |b| {
        b.iter(|| {
            black_box(pipectl_spec::load_str(Path::new("seed.toml"), SEED.to_string()).unwrap())
        });
    });
    g.bench_function("parse + validate + price sheet + estimate", |b| {
        b.iter(|| {
            let spec = pipectl_spec::load_str(Path::new("seed.toml"), SEED.to_string())
                .unwrap()
                .spec;
            let prices =
                PriceSheet::parse(Path::new("us-east-1.toml"), PRICES.to_string()).unwrap();
            black_box(estimate(&spec, &prices, Options::default()))
        });
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
