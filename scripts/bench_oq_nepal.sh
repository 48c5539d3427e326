#!/usr/bin/env bash
# Nepal scenario_damage benchmark: OpenQuake 3.26.2 against `renxing oq`, both fed the same
# 1,000 ground-motion fields.
#
# Usage:
#   scripts/bench_oq_nepal.sh [--events N] [--work DIR] [--no-oq] [--no-renxing] [--refresh-gmfs]
#
#   --events N       number of ground-motion fields of the hazard step (default 1000)
#   --work DIR       scratch directory (default: a new mktemp -d; kept, its path is printed)
#   --no-oq          skip the two timed OpenQuake damage runs (part c, OpenQuake half)
#   --no-renxing     skip the timed Renxing run
#   --refresh-gmfs   recompute the cached fields even when present
#
# Environment:
#   OQ_VENV              OpenQuake venv (default $HOME/.cache/peers/venv-oq, from which `bin/oq` runs)
#   OQ_HOME              HOME given to OpenQuake, i.e. where its oqdata/ and db live
#                        (default <work>/oqhome, so nothing is written to the real $HOME)
#   RENXING              Renxing binary (default target/release/renxing under the repository)
#   RENXING_SHARED_DATA  shared data folder (default <repository>/../shared/data)
#   NEPAL_GMF_CACHE      where the fields are cached (default $HOME/.cache/renxing/nepal-gmfs)
#
# What it does:
#   (a) Hazard, once: copies <shared>/exposure/nepal to a scratch dir and runs an OpenQuake
#       `scenario` (hazard only) job with the demo's rupture (fault_rupture.xml, mesh spacing 15 km),
#       GSIM ChiouYoungs2008, reference site parameters (vs30 760 measured, z1pt0 100 m,
#       z2pt5 5 km), truncation 3, maximum_distance 200 km, region, ses_seed 42, and
#       number_of_ground_motion_fields = N. The hazard sites are the exposure's distinct asset
#       locations (OpenQuake takes them from exposure_file). It exports `gmf-data` and `sitemesh`
#       and caches them as gmfs.csv (event_id,gmv_PGA,custom_site_id) and sites.csv
#       (custom_site_id,lon,lat), both with OpenQuake's leading `#,,"generated_by=..."` line.
#       The cache is reused when its params.txt matches.
#   (b) Writes a `scenario_damage` job.ini reading those fields (gmfs_csv + sites_csv) with the
#       Nepal exposure, structural_fragility_model.xml and consequences.csv. consequences.csv has
#       the columns risk_id,consequence,loss_type,<limit states>, which OpenQuake 3.26 reads as is
#       (a missing `peril` column defaults to groundshaking); the job passes it as
#       consequence_file = {'taxonomy': 'consequences.csv'} (the key OpenQuake maps to risk_id).
#       The shared files are copied, never edited.
#   (c) Times that job with /usr/bin/time -v (wall clock and max RSS) for OpenQuake with
#       OQ_DISTRIBUTE=no and with OQ_DISTRIBUTE=processpool, then for
#       `$RENXING oq job.ini --out DIR` when the binary exists, and compares Renxing's aggrisk-.csv,
#       avg_damages-rlz-000.csv and risk_by_event.csv with OpenQuake's via scripts/oq_compare.py
#       (relative tolerance 5e-5: OpenQuake stores fields, damages and event sums in float32).
#       GNU time's max RSS is that of the largest single process: for processpool it is the
#       biggest of the parent and its workers, not their sum; the table also gives the peak of the
#       summed RSS of the whole process tree, sampled every 0.5 s.
#
# Exit status: 0 when everything that ran agreed, 1 when a comparison failed, 2 on a setup error.
set -euo pipefail

die() { echo "bench_oq_nepal: $*" >&2; exit 2; }

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
EVENTS=1000
WORK=""
RUN_OQ=1
RUN_RX=1
REFRESH=0
while [ $# -gt 0 ]; do
    case "$1" in
        --events) EVENTS="$2"; shift 2 ;;
        --work) WORK="$2"; shift 2 ;;
        --no-oq) RUN_OQ=0; shift ;;
        --no-renxing) RUN_RX=0; shift ;;
        --refresh-gmfs) REFRESH=1; shift ;;
        -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        *) die "unknown argument $1 (see --help)" ;;
    esac
done
if ! [[ "$EVENTS" =~ ^[1-9][0-9]*$ ]]; then die "--events must be a positive integer"; fi

OQ_VENV="${OQ_VENV:-$HOME/.cache/peers/venv-oq}"
OQ="$OQ_VENV/bin/oq"
SHARED="${RENXING_SHARED_DATA:-$REPO/../shared/data}"
NEPAL="$SHARED/exposure/nepal"
CACHE="${NEPAL_GMF_CACHE:-$HOME/.cache/renxing/nepal-gmfs}"
RENXING="${RENXING:-$REPO/target/release/renxing}"
COMPARE="$REPO/scripts/oq_compare.py"
TIME=/usr/bin/time

[ -d "$NEPAL" ] || die "Nepal data not found at $NEPAL (set RENXING_SHARED_DATA)"
[ -x "$TIME" ] || die "$TIME missing (apt-get install time)"
[ -z "$WORK" ] && WORK="$(mktemp -d /tmp/bench-oq-nepal.XXXXXX)"
mkdir -p "$WORK"
WORK="$(cd "$WORK" && pwd)"
OQ_HOME="${OQ_HOME:-$WORK/oqhome}"
mkdir -p "$OQ_HOME" "$CACHE"
echo "work dir: $WORK"

need_oq() { [ -x "$OQ" ] || die "OpenQuake not found at $OQ (set OQ_VENV)"; }

# Run `oq engine --run INI` with extra env assignments; prints the calc id on stdout.
# Usage: oq_run LOGFILE INI [VAR=value ...]
oq_run() {
    local log="$1" ini="$2"
    shift 2
    env CI=1 HOME="$OQ_HOME" "$@" "$OQ" engine --run "$ini" >"$log" 2>&1 || {
        tail -30 "$log" >&2
        die "OpenQuake failed on $ini (log: $log)"
    }
    calc_id_of "$log"
}

# The calc id is the `#N` of OpenQuake's log lines, e.g. `[2026-01-01 10:00:00 #7 INFO] ...`.
calc_id_of() { grep -m1 -oE '#[0-9]+ (WARNING|INFO|ERROR|CRITICAL)\]' "$1" | grep -oE '[0-9]+' || true; }

# Export every output of calculation $1 into $2 with the `_<calc_id>` suffix removed. Each output
# is exported on its own, so that one failing export (OpenQuake 3.26.2's avg_gmf export fails when
# the site collection was reduced) does not stop the others, as it does in `oq engine --eos`.
oq_export() {
    local id="$1" dest="$2" raw="$2/.raw"
    rm -rf "$raw"
    mkdir -p "$raw"
    env CI=1 HOME="$OQ_HOME" "$OQ_VENV/bin/python" - "$id" "$raw" >"$dest/export.log" 2>&1 <<'PY' ||
import sys
from openquake.commonlib import logs
from openquake.engine.export import core

calc_id, target = int(sys.argv[1]), sys.argv[2]
datadir, dskeys = logs.dbcmd("get_results", calc_id)
for dskey in dskeys:
    try:
        for _ in core.export_output(dskey, calc_id, datadir, target, "csv"):
            pass
    except Exception as exc:  # keep exporting the other outputs
        print(f"export of {dskey} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
PY
        die "export of calculation $id failed (see $dest/export.log)"
    local f b
    for f in "$raw"/*; do
        [ -e "$f" ] || continue
        b="$(basename "$f")"
        mv "$f" "$dest/${b/_$id./.}"
    done
    rmdir "$raw"
}

# ---------------------------------------------------------------- (a) hazard: the GMF cache
PARAMS="events=$EVENTS gsim=ChiouYoungs2008 ses_seed=42 truncation_level=3.0 maximum_distance=200 oq=3.26.2"
if [ "$REFRESH" = 0 ] && [ -s "$CACHE/gmfs.csv" ] && [ -s "$CACHE/sites.csv" ] &&
    [ "$(cat "$CACHE/params.txt" 2>/dev/null)" = "$PARAMS" ]; then
    echo "(a) reusing cached fields in $CACHE"
else
    need_oq
    HAZ="$WORK/hazard"
    rm -rf "$HAZ"
    mkdir -p "$HAZ"
    cp "$NEPAL"/exposure_model.xml "$NEPAL"/exposure_model.csv "$NEPAL"/fault_rupture.xml "$HAZ"/
    chmod -R u+w "$HAZ"
    cat >"$HAZ/job_hazard.ini" <<EOF
[general]
description = Nepal scenario hazard: $EVENTS GMFs at the exposure sites
calculation_mode = scenario
ses_seed = 42

[exposure]
exposure_file = exposure_model.xml

[boundaries]
region = 78.0 31.5, 89.5 31.5, 89.5 25.5, 78.0 25.5

[rupture]
rupture_model_file = fault_rupture.xml
rupture_mesh_spacing = 15

[site_params]
reference_vs30_type = measured
reference_vs30_value = 760.0
reference_depth_to_2pt5km_per_sec = 5.0
reference_depth_to_1pt0km_per_sec = 100.0

[hazard_calculation]
intensity_measure_types = PGA
truncation_level = 3.0
maximum_distance = 200
gsim = ChiouYoungs2008
number_of_ground_motion_fields = $EVENTS
EOF
    echo "(a) computing $EVENTS fields with OpenQuake (scenario, hazard only) ..."
    t0=$(date +%s)
    HID="$(oq_run "$HAZ/hazard.log" "$HAZ/job_hazard.ini" OQ_DISTRIBUTE=no)"
    [ -n "$HID" ] || die "could not read the calc id from $HAZ/hazard.log"
    mkdir -p "$HAZ/out"
    oq_export "$HID" "$HAZ/out"
    if [ ! -s "$HAZ/out/gmf-data.csv" ] || [ ! -s "$HAZ/out/sitemesh.csv" ]; then
        die "OpenQuake did not export gmf-data/sitemesh (see $HAZ/out)"
    fi
    cp "$HAZ/out/gmf-data.csv" "$CACHE/gmfs.csv"
    cp "$HAZ/out/sitemesh.csv" "$CACHE/sites.csv"
    grep -E 'Associated|Discarded|sites|filtered' "$HAZ/hazard.log" | sed 's/^\[[^]]*\] //' >"$CACHE/hazard_log_excerpt.txt" || true
    echo "$PARAMS" >"$CACHE/params.txt"
    echo "(a) done in $(($(date +%s) - t0)) s (calc $HID)"
fi

N_SITES=$(($(grep -vc '^#' "$CACHE/sites.csv") - 1))
N_ROWS=$(($(grep -vc '^#' "$CACHE/gmfs.csv") - 1))
N_EVENTS=$(python3 - "$CACHE/gmfs.csv" <<'PY'
import csv, sys
with open(sys.argv[1], newline="") as f:
    rows = csv.reader(line for line in f if not line.startswith("#"))
    head = next(rows)
    col = head.index("event_id") if "event_id" in head else head.index("eid")
    print(len({r[col] for r in rows}))
PY
)
N_ASSETS=$(($(wc -l <"$NEPAL/exposure_model.csv") - 1))
GMF_BYTES=$(stat -c %s "$CACHE/gmfs.csv")
echo "fields: $CACHE/gmfs.csv ($GMF_BYTES bytes, $N_ROWS rows), $N_SITES sites, $N_EVENTS events; exposure: $N_ASSETS assets"

# ---------------------------------------------------------------- (b) the damage job
DMG="$WORK/damage"
rm -rf "$DMG"
mkdir -p "$DMG"
cp "$NEPAL"/exposure_model.xml "$NEPAL"/exposure_model.csv "$NEPAL"/structural_fragility_model.xml \
    "$NEPAL"/consequences.csv "$DMG"/
chmod -R u+w "$DMG"
ln -s "$CACHE/gmfs.csv" "$DMG/gmfs.csv"
ln -s "$CACHE/sites.csv" "$DMG/sites.csv"
cat >"$DMG/job.ini" <<'EOF'
[general]
description = Nepal scenario_damage from precomputed GMFs
calculation_mode = scenario_damage

[exposure]
exposure_file = exposure_model.xml

[hazard]
sites_csv = sites.csv
gmfs_csv = gmfs.csv

[fragility]
structural_fragility_file = structural_fragility_model.xml

[consequence]
consequence_file = {'taxonomy': 'consequences.csv'}
EOF
echo "(b) damage job: $DMG/job.ini"

# ---------------------------------------------------------------- (c) timings
T_NAME=()
T_WALL=()
T_RSS=()
T_SUM=()
T_CPU=()
# Sum of the RSS (KiB) of process $1 and all its descendants, from one `ps` snapshot.
tree_rss() {
    ps -eo pid=,ppid=,rss= | awk -v root="$1" '
        { parent[$1] = $2; rss[$1] = $3 }
        END {
            for (p in rss) {
                q = p
                while (q != "" && q != root && q in parent && q != 1 && q != 0) q = parent[q]
                if (q == root) total += rss[p]
            }
            print total + 0
        }'
}
# Usage: timed NAME LOG -- command...; records wall seconds and max RSS (KiB) from GNU time, and the
# peak of the summed RSS of the whole process tree sampled every 0.5 s (workers included).
timed() {
    local name="$1" log="$2"
    shift 3
    local rc=0 peak=0 now pid
    "$TIME" -v -o "$log.time" "$@" >"$log" 2>&1 &
    pid=$!
    while kill -0 "$pid" 2>/dev/null; do
        now=$(tree_rss "$pid")
        [ "$now" -gt "$peak" ] && peak=$now
        sleep 0.5
    done
    wait "$pid" || rc=$?
    local wall rss cpu
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$log.time" |
        awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log.time")
    cpu=$(awk -F': ' '/User time|System time/ {s += $2} END {print s + 0}' "$log.time")
    T_NAME+=("$name")
    T_WALL+=("${wall:-0}")
    T_RSS+=("${rss:-0}")
    T_SUM+=("$peak")
    T_CPU+=("${cpu:-0}")
    return $rc
}

OQ_OUT="$WORK/oq-out"
if [ "$RUN_OQ" = 1 ]; then
    need_oq
    for mode in no processpool; do
        echo "(c) OpenQuake scenario_damage, OQ_DISTRIBUTE=$mode ..."
        log="$WORK/oq_$mode.log"
        timed "oq ($mode)" "$log" -- env CI=1 HOME="$OQ_HOME" OQ_DISTRIBUTE="$mode" \
            "$OQ" engine --run "$DMG/job.ini" || { tail -30 "$log" >&2; die "OpenQuake damage run failed ($log)"; }
        id="$(calc_id_of "$log")"
        if [ "$mode" = no ]; then
            rm -rf "$OQ_OUT"
            mkdir -p "$OQ_OUT"
            oq_export "$id" "$OQ_OUT"
            grep -hE 'Associated [0-9_]+ assets|Discarded' "$log" | sed 's/^\[[^]]*\] /    OQ: /' || true
        fi
    done
else
    echo "(c) OpenQuake runs skipped (--no-oq)"
fi

status=0
RX_OUT="$WORK/rx-out"
if [ "$RUN_RX" = 1 ]; then
    if [ -x "$RENXING" ]; then
        echo "(c) renxing oq ..."
        rm -rf "$RX_OUT"
        timed "renxing" "$WORK/renxing.log" -- "$RENXING" oq "$DMG/job.ini" --out "$RX_OUT" || {
            tail -30 "$WORK/renxing.log" >&2
            echo "renxing failed (log: $WORK/renxing.log)" >&2
            status=1
        }
    else
        echo "(c) renxing binary not found at $RENXING: build it with 'cargo build --release' (or set RENXING); skipped"
    fi
fi

echo
printf '%-18s %9s %9s %14s %20s %8s %8s\n' "run" "wall (s)" "CPU (s)" "max RSS (MiB)" "tree RSS peak (MiB)" "wall/rx" "RSS/rx"
rx_wall="" rx_rss=""
for i in "${!T_NAME[@]}"; do
    if [ "${T_NAME[$i]}" = renxing ]; then rx_wall="${T_WALL[$i]}"; rx_rss="${T_RSS[$i]}"; fi
done
for i in "${!T_NAME[@]}"; do
    awk -v n="${T_NAME[$i]}" -v w="${T_WALL[$i]}" -v c="${T_CPU[$i]}" -v r="${T_RSS[$i]}" -v t="${T_SUM[$i]}" \
        -v rw="$rx_wall" -v rr="$rx_rss" 'BEGIN {
        rw_s = (rw > 0) ? sprintf("%.1f", w / rw) : "-"
        rr_s = (rr > 0) ? sprintf("%.1f", r / rr) : "-"
        printf "%-18s %9.2f %9.2f %14.1f %20.1f %8s %8s\n", n, w, c, r / 1024, t / 1024, rw_s, rr_s }'
done
echo "(max RSS: GNU time, largest single process; tree RSS peak: sum over the process and its"
echo " workers, sampled every 0.5 s; CPU: user + system; ratios are OpenQuake / renxing on wall time"
echo " and max RSS; load average when the timings ended: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores)"

if [ -d "$OQ_OUT" ] && [ -d "$RX_OUT" ]; then
    echo
    # OpenQuake keeps GMFs, damages and risk_by_event in float32 (measured: its per-asset damages
    # differ from a float64 computation by up to ~2e-6 relative, its event sums over ~6,000 assets by
    # up to ~1e-5), hence the relative tolerance of 5e-5, the one OpenQuake's own tests use for
    # event_based_damage outputs.
    REL=5e-5
    echo "comparison renxing vs OpenQuake 3.26.2 (relative tolerance $REL, float32 in OpenQuake):"
    for f in aggrisk-.csv avg_damages-rlz-000.csv risk_by_event.csv; do
        if [ ! -f "$OQ_OUT/$f" ]; then continue; fi
        if [ ! -f "$RX_OUT/$f" ]; then
            echo "  $f: missing in renxing output"
            status=1
            continue
        fi
        python3 "$COMPARE" "$RX_OUT/$f" "$OQ_OUT/$f" --summary --rel "$REL" || status=1
    done
fi
echo "outputs: OpenQuake $OQ_OUT, renxing $RX_OUT"
exit $status
