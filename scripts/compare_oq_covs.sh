#!/usr/bin/env bash
# Sampled loss ratios (vulnerability covs), side by side with OpenQuake 3.26.2: the Nepal demo's
# scenario_risk (structural, nonstructural and occupants vulnerability models, lognormal covs
# 0.3/0.1) from the 1,000 fields cached by scripts/bench_oq_nepal.sh, with ignore_covs = false,
# master_seed = 42, asset_correlation 0 and 1. The engines draw different random numbers, so the
# script checks statistical agreement of the aggregated average loss and of the spread of the
# per-event total loss:
#
#   asset_correlation = 0: |mean ratio − 1| ≤ 0.2 %, |event sd ratio − 1| ≤ 2 %
#   asset_correlation = 1: |mean ratio − 1| ≤ 3 %,   |event sd ratio − 1| ≤ 6 %
#
# (about three standard errors: with correlation one ε per event and taxonomy drives the loss,
# 1,000 events × 5 taxonomies; without, the noise averages over 6,010 assets too).
#
# Usage: scripts/compare_oq_covs.sh [WORK_DIR]
# Environment: OQ_VENV, RENXING (default target/release/renxing), RENXING_SHARED_DATA,
#              NEPAL_GMF_CACHE (default $HOME/.cache/renxing/nepal-gmfs).
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SHARED="${RENXING_SHARED_DATA:-$REPO/../shared/data}"
OQ_VENV="${OQ_VENV:-$HOME/.cache/peers/venv-oq}"
RENXING="${RENXING:-$REPO/target/release/renxing}"
CACHE="${NEPAL_GMF_CACHE:-$HOME/.cache/renxing/nepal-gmfs}"
WORK="${1:-$(mktemp -d)}"
[ -x "$OQ_VENV/bin/oq" ] || { echo "compare_oq_covs: no OpenQuake at $OQ_VENV" >&2; exit 2; }
[ -x "$RENXING" ] || { echo "compare_oq_covs: build renxing first (cargo build --release)" >&2; exit 2; }
[ -f "$CACHE/gmfs.csv" ] || { echo "compare_oq_covs: no cached fields in $CACHE (run scripts/bench_oq_nepal.sh --no-oq --no-renxing first)" >&2; exit 2; }
mkdir -p "$WORK/oqhome"
cp "$SHARED"/exposure/nepal/* "$CACHE/gmfs.csv" "$CACHE/sites.csv" "$WORK/"
cd "$WORK"
for corr in 0 1; do
    cat > "job$corr.ini" <<INI
[general]
description = Nepal scenario_risk with sampled loss ratios, asset_correlation $corr
calculation_mode = scenario_risk
master_seed = 42
[exposure]
exposure_file = exposure_model.xml
[hazard]
gmfs_csv = gmfs.csv
sites_csv = sites.csv
[vulnerability]
structural_vulnerability_file = structural_vulnerability_model.xml
nonstructural_vulnerability_file = nonstructural_vulnerability_model.xml
occupants_vulnerability_file = occupants_vulnerability_model.xml
[risk_calculation]
time_event = night
asset_correlation = $corr
INI
    mkdir -p "oq$corr"
    # OpenQuake exports next to the job file, suffixed by its calculation id: move them aside.
    CI=1 HOME="$WORK/oqhome" OQ_DISTRIBUTE=no "$OQ_VENV/bin/oq" engine --run "job$corr.ini" -e csv --exports csv \
        > "oq$corr/oq.log" 2>&1 || { tail -20 "oq$corr/oq.log" >&2; exit 1; }
    mv aggrisk-_*.csv risk_by_event_*.csv "oq$corr/"
    "$RENXING" oq "job$corr.ini" --out "rx$corr" --quiet > /dev/null 2>&1
done
python3 - "$WORK" <<'PY'
import csv, glob, statistics, sys
w = sys.argv[1]
def table(path):
    with open(path) as f:
        next(f)
        return list(csv.DictReader(f))
ok = True
for corr, tol_mean, tol_sd in [(0, 0.002, 0.02), (1, 0.03, 0.06)]:
    oq_agg = {r['loss_type']: float(r['loss_value']) for r in table(glob.glob(f'{w}/oq{corr}/aggrisk-_*.csv')[0])}
    rx_agg = {r['loss_type']: float(r['loss_value']) for r in table(f'{w}/rx{corr}/aggrisk-.csv')}
    def per_event(rows):
        d = {}
        for r in rows:
            d.setdefault(r['loss_type'], {})[r['event_id']] = float(r['loss'])
        return d
    oq_ev = per_event(table(glob.glob(f'{w}/oq{corr}/risk_by_event_*.csv')[0]))
    rx_ev = per_event(table(f'{w}/rx{corr}/risk_by_event.csv'))
    for lt in ('structural', 'nonstructural'):
        m = rx_agg[lt] / oq_agg[lt] - 1
        sd_o = statistics.pstdev(list(oq_ev[lt].values()) + [0.0] * (1000 - len(oq_ev[lt])))
        sd_r = statistics.pstdev(list(rx_ev[lt].values()) + [0.0] * (1000 - len(rx_ev[lt])))
        s = sd_r / sd_o - 1
        good = abs(m) <= tol_mean and abs(s) <= tol_sd
        ok &= good
        print(f'asset_correlation={corr} {lt:14s} mean {oq_agg[lt]:.6g} / {rx_agg[lt]:.6g} ({m:+.3%}, tol {tol_mean:.1%})'
              f'  event sd {sd_o:.5g} / {sd_r:.5g} ({s:+.2%}, tol {tol_sd:.0%})  {"PASS" if good else "FAIL"}')
    o, r = oq_agg.get('occupants_night'), rx_agg.get('occupants_night')
    good = o is not None and r is not None and abs(r / o - 1) <= 1e-5
    ok &= good
    print(f'asset_correlation={corr} occupants_night (no covs) {o} / {r}  {"PASS" if good else "FAIL"}')
sys.exit(0 if ok else 1)
PY
