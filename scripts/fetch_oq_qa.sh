#!/usr/bin/env bash
# Run `renxing oq` on OpenQuake 3.26.2's own QA jobs that start from given ground-motion fields,
# and compare its outputs with the jobs' expected/ files (scripts/oq_compare.py).
#
# Usage:
#   scripts/fetch_oq_qa.sh [--only REGEX] [--list] [--keep] [--require-renxing]
#
#   --only REGEX        run only the jobs whose path (e.g. scenario_damage/case_17/job_no_time_event.ini)
#                       matches REGEX (grep -E)
#   --list              print the selected jobs and exit
#   --keep              keep the Renxing output directories (their paths are printed)
#   --require-renxing   exit 2 when the Renxing binary is missing (default: say so, list, exit 0)
#
# Environment:
#   RENXING       Renxing binary (default target/release/renxing under the repository)
#   OQ_QA_CACHE   cache folder (default $HOME/.cache/renxing/oq-qa): the wheel and its extracted
#                 QA data are kept there and reused
#   PYTHON        Python 3.11+ used for pip and the comparison (default python3)
#   JOB_TIMEOUT   seconds allowed to one renxing run (default 600)
#
# Source: the openquake.engine==3.26.2 wheel, fetched once with `pip download --no-deps`; only
# openquake/qa_tests_data/{scenario_damage,scenario_risk,event_based_damage}/ is unzipped.
#
# Selection rule: a job file (*.ini) of those folders is selected when
#   * its calculation_mode is scenario_damage, scenario_risk or event_based_damage, and
#   * it gives the hazard as fields: a `gmfs_csv` or `gmfs_file` key, and
#   * it needs no hazard computation or earlier calculation: none of rupture_model_file,
#     rupture_dict, source_model_logic_tree_file, shakemap_uri, shakemap_id, hazard_calculation_id.
# (Jobs of the form job_haz.ini + job_risk.ini, whose risk part reads the hazard calculation
# just run, are therefore excluded.)
#
# Per job: status is
#   pass                    every comparable expected file matched
#   fail                    a comparison failed, renxing crashed (non-zero exit whose message does not
#                           say "unsupported"), or it succeeded on a job OpenQuake must reject
#   unsupported             renxing exited non-zero with a message containing "unsupported" or
#                           "not supported" (the message is listed; not a failure, but counted)
#   no-comparable-expected  renxing ran but no expected file maps to an output it wrote
#   expected-error          a job OpenQuake rejects (job_bad/_err/_wrong.ini and the OQ_REJECTS list
#                           below) and renxing rejected it too
# Exit status: 1 when any job failed, 0 otherwise (2 on a setup error).
set -euo pipefail

die() { echo "fetch_oq_qa: $*" >&2; exit 2; }

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ONLY=""
LIST=0
KEEP=0
REQUIRE=0
while [ $# -gt 0 ]; do
    case "$1" in
        --only) ONLY="$2"; shift 2 ;;
        --list) LIST=1; shift ;;
        --keep) KEEP=1; shift ;;
        --require-renxing) REQUIRE=1; shift ;;
        -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        *) die "unknown argument $1 (see --help)" ;;
    esac
done

VERSION=3.26.2
CACHE="${OQ_QA_CACHE:-$HOME/.cache/renxing/oq-qa}"
PY="${PYTHON:-python3}"
RENXING="${RENXING:-$REPO/target/release/renxing}"
COMPARE="$REPO/scripts/oq_compare.py"
JOB_TIMEOUT="${JOB_TIMEOUT:-600}"
CALCS=(scenario_damage scenario_risk event_based_damage)
WHEEL_GLOB="openquake_engine-$VERSION-py3-none-any.whl"
# Selected jobs that OpenQuake 3.26.2 itself rejects (checked by running it): job_bad.ini has no
# fragility model; case_10's GMF sites are disjoint from its site collection.
OQ_REJECTS=(scenario_damage/case_1/job_bad.ini scenario_damage/case_10/job.ini)

command -v "$PY" >/dev/null || die "$PY not found (set PYTHON)"
command -v unzip >/dev/null || die "unzip not found (apt-get install unzip)"
mkdir -p "$CACHE"

# ---------------------------------------------------------------- wheel and QA data
WHEEL="$CACHE/$WHEEL_GLOB"
if [ ! -s "$WHEEL" ]; then
    echo "downloading openquake.engine==$VERSION (wheel only, no dependencies) into $CACHE ..."
    "$PY" -m pip download --quiet --no-deps --only-binary :all: "openquake.engine==$VERSION" -d "$CACHE" ||
        die "pip download of openquake.engine==$VERSION failed"
    [ -s "$WHEEL" ] || die "pip did not leave $WHEEL"
fi
QA="$CACHE/qa"
STAMP="$QA/.extracted-$VERSION"
if [ ! -f "$STAMP" ]; then
    rm -rf "$QA"
    mkdir -p "$QA"
    patterns=()
    for c in "${CALCS[@]}"; do patterns+=("openquake/qa_tests_data/$c/*"); done
    unzip -q -o "$WHEEL" "${patterns[@]}" -d "$QA" || die "unzip of $WHEEL failed"
    touch "$STAMP"
fi
ROOT="$QA/openquake/qa_tests_data"

# ---------------------------------------------------------------- job selection
mapfile -t JOBS < <("$PY" - "$ROOT" "${CALCS[@]}" <<'PY'
import configparser, os, sys

root, calcs = sys.argv[1], sys.argv[2:]
NEEDS_HAZARD = {"rupture_model_file", "rupture_dict", "source_model_logic_tree_file", "shakemap_uri",
                "shakemap_id", "hazard_calculation_id"}
for calc in calcs:
    for dirpath, _, files in sorted(os.walk(os.path.join(root, calc))):
        for f in sorted(files):
            if not f.endswith(".ini"):
                continue
            path = os.path.join(dirpath, f)
            cp = configparser.ConfigParser(interpolation=None, strict=False)
            try:
                with open(path, encoding="utf-8") as fh:
                    cp.read_file(fh)
            except (configparser.Error, UnicodeDecodeError) as e:
                print(f"skipping unreadable {path}: {e}", file=sys.stderr)
                continue
            keys = {k: v.strip() for s in cp.sections() for k, v in cp.items(s)}
            if keys.get("calculation_mode") not in calcs:
                continue
            if not ({"gmfs_csv", "gmfs_file"} & set(keys)):
                continue
            if NEEDS_HAZARD & {k for k, v in keys.items() if v}:
                continue
            print(os.path.relpath(path, root))
PY
)
if [ -n "$ONLY" ]; then
    mapfile -t JOBS < <(printf '%s\n' "${JOBS[@]}" | grep -E -- "$ONLY" || true)
fi
[ "${#JOBS[@]}" -gt 0 ] || die "no job selected"

if [ "$LIST" = 1 ]; then
    printf '%s\n' "${JOBS[@]}"
    exit 0
fi

if [ ! -x "$RENXING" ]; then
    echo "renxing binary not found at $RENXING."
    echo "Build it first:  cargo build --release   (or point RENXING at a built binary)."
    echo "The ${#JOBS[@]} selected jobs would be:"
    printf '  %s\n' "${JOBS[@]}"
    [ "$REQUIRE" = 1 ] && exit 2
    exit 0
fi

# ---------------------------------------------------------------- run and compare
WORK="$(mktemp -d /tmp/oq-qa-run.XXXXXX)"
[ "$KEEP" = 1 ] || trap 'rm -rf "$WORK"' EXIT

ROWS=()
DETAILS=()
UNSUPPORTED=()
n_fail=0
n_unsup=0
for rel in "${JOBS[@]}"; do
    job="$ROOT/$rel"
    case_dir="$(dirname "$rel")"
    jobname="$(basename "$rel")"
    out="$WORK/${case_dir//\//__}__${jobname%.ini}"
    rm -rf "$out"
    mkdir -p "$out"
    expect_error=0
    case "$rel" in */job_bad.ini|*/job_err.ini|*/job_wrong.ini) expect_error=1 ;; esac
    for r in "${OQ_REJECTS[@]}"; do [ "$rel" = "$r" ] && expect_error=1; done
    rc=0
    (cd "$(dirname "$job")" && timeout "$JOB_TIMEOUT" "$RENXING" oq "$job" --out "$out") \
        >"$out.stdout" 2>"$out.stderr" || rc=$?
    files="-"
    mrd="-"
    if [ "$rc" != 0 ]; then
        msg="$(grep -v '^\s*$' "$out.stderr" | tail -3 | tr '\n' ' ' | cut -c1-300)"
        if [ "$expect_error" = 1 ]; then
            status="expected-error"
        elif grep -qiE 'unsupported|not supported' "$out.stderr"; then
            status="unsupported"
            n_unsup=$((n_unsup + 1))
            UNSUPPORTED+=("$rel: $msg")
        else
            status="fail"
            n_fail=$((n_fail + 1))
            [ "$rc" = 124 ] && msg="timed out after ${JOB_TIMEOUT}s"
            DETAILS+=("$rel: renxing exit $rc: $msg")
        fi
    elif [ "$expect_error" = 1 ]; then
        status="fail"
        n_fail=$((n_fail + 1))
        DETAILS+=("$rel: renxing accepted a job OpenQuake's tests expect to be rejected")
    elif [ ! -d "$(dirname "$job")/expected" ]; then
        status="no-comparable-expected"
    else
        crc=0
        "$PY" "$COMPARE" --dir "$out" "$(dirname "$job")/expected" --job "$job" >"$out.compare.jsonl" 2>&1 || crc=$?
        [ "$crc" -le 1 ] || { DETAILS+=("$rel: oq_compare.py error: $(tail -2 "$out.compare.jsonl")"); }
        read -r status files mrd < <("$PY" - "$out.compare.jsonl" <<'PY'
import json, sys
summ = None
for line in open(sys.argv[1]):
    try:
        d = json.loads(line)
    except ValueError:
        continue
    if "summary" in d:
        summ = d["summary"]
if summ is None:
    print("fail - -")
else:
    m = summ["max_rel_diff"]
    print(summ["status"], summ["compared"], m if isinstance(m, str) else f"{m:.3g}")
PY
)
        if [ "$status" = fail ]; then
            n_fail=$((n_fail + 1))
            while IFS= read -r line; do DETAILS+=("$rel: $line"); done < <("$PY" - "$out.compare.jsonl" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    try:
        d = json.loads(line)
    except ValueError:
        print(line.strip()); continue
    if d.get("status") == "fail":
        probs = "; ".join(d.get("problems", [])[:3])
        print(f"{d['expected'].rsplit('/', 1)[-1]} vs {d['actual'].rsplit('/', 1)[-1]}: {probs}")
PY
)
        fi
    fi
    ROWS+=("$case_dir|$jobname|$status|$files|$mrd")
    echo "  $rel: $status" >&2
done

echo
printf '%-34s | %-28s | %-22s | %-14s | %s\n' "case" "job" "status" "files compared" "max rel diff"
printf '%s\n' "-----------------------------------+------------------------------+------------------------+----------------+-------------"
for r in "${ROWS[@]}"; do
    IFS='|' read -r c j s f m <<<"$r"
    printf '%-34s | %-28s | %-22s | %-14s | %s\n' "$c" "$j" "$s" "$f" "$m"
done
echo
echo "${#JOBS[@]} jobs: $n_fail failed, $n_unsup unsupported"
if [ "${#UNSUPPORTED[@]}" -gt 0 ]; then
    echo "unsupported:"
    printf '  %s\n' "${UNSUPPORTED[@]}"
fi
if [ "${#DETAILS[@]}" -gt 0 ]; then
    echo "failures:"
    printf '  %s\n' "${DETAILS[@]}"
fi
[ "$KEEP" = 1 ] && echo "outputs kept in $WORK"
[ "$n_fail" = 0 ]
