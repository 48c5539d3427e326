//! A thin layer over HiGHS (the `highs` crate, built from source): a mixed-integer program built
//! row by row, solved with Renxing's settings — exact optimality (relative MIP gap 0), one thread
//! and a fixed random seed so that a run is repeatable, an optional time limit — and read back
//! with its proven bound.

use highs::{Col, HighsModelStatus, RowProblem, Sense};

use crate::SiteError;

/// Solver settings shared by every exact model.
#[derive(Debug, Clone, Copy, Default)]
pub struct MilpOptions {
    /// Wall-clock limit in seconds; the best solution found and its bound are returned when hit.
    pub time_limit: Option<f64>,
    /// HiGHS `random_seed`.
    pub seed: u64,
    /// Stop once the incumbent is proven within this relative gap (0 = optimal).
    pub rel_gap: f64,
}

/// A MILP under construction.
pub struct Milp {
    pb: RowProblem,
    cols: usize,
    start: Option<Vec<f64>>,
}

/// How a solve ended.
#[derive(Debug, Clone, PartialEq)]
pub enum MilpOutcome {
    /// Proven optimal (`bound` = `objective`).
    Optimal,
    /// Stopped at the time limit with a feasible solution.
    TimeLimit,
}

/// A solved MILP.
#[derive(Debug, Clone)]
pub struct MilpSolution {
    pub values: Vec<f64>,
    pub objective: f64,
    /// Best proven bound on the optimum (HiGHS `mip_dual_bound`; the objective for LPs).
    pub bound: f64,
    pub outcome: MilpOutcome,
}

impl Milp {
    pub fn new() -> Milp {
        Milp {
            pb: RowProblem::default(),
            cols: 0,
            start: None,
        }
    }

    /// A binary variable with objective coefficient `cost`; `fixed` pins it to 0 or 1.
    pub fn binary(&mut self, cost: f64, fixed: Option<bool>) -> Col {
        self.cols += 1;
        match fixed {
            Some(true) => self.pb.add_integer_column(cost, 1.0..=1.0),
            Some(false) => self.pb.add_integer_column(cost, 0.0..=0.0),
            None => self.pb.add_integer_column(cost, 0.0..=1.0),
        }
    }

    /// A continuous variable in `[lo, hi]`.
    pub fn continuous(&mut self, cost: f64, lo: f64, hi: f64) -> Col {
        self.cols += 1;
        self.pb.add_column(cost, lo..=hi)
    }

    /// `lo ≤ Σ a·x ≤ hi` (use ±∞ for one-sided rows).
    pub fn row(&mut self, lo: f64, hi: f64, terms: &[(Col, f64)]) {
        match (lo.is_finite(), hi.is_finite()) {
            (true, true) => self.pb.add_row(lo..=hi, terms),
            (true, false) => self.pb.add_row(lo.., terms),
            (false, true) => self.pb.add_row(..=hi, terms),
            (false, false) => {}
        }
    }

    pub fn n_cols(&self) -> usize {
        self.cols
    }

    /// A feasible starting solution (all columns), handed to HiGHS as its first incumbent.
    pub fn start_from(&mut self, values: Vec<f64>) {
        self.start = Some(values);
    }

    /// Solve; `what` names the model in error messages.
    pub fn solve(self, sense: Sense, opts: &MilpOptions, what: &str) -> Result<MilpSolution, SiteError> {
        let maximise = matches!(sense, Sense::Maximise);
        let mut model = self
            .pb
            .try_optimise(sense)
            .map_err(|e| solver(what, format!("{e:?}")))?;
        model.make_quiet();
        set_opt(&mut model, "mip_rel_gap", opts.rel_gap, what)?;
        set_opt(&mut model, "mip_abs_gap", 1e-9, what)?;
        set_opt(&mut model, "threads", 1, what)?;
        set_opt(&mut model, "random_seed", (opts.seed % (i32::MAX as u64)) as i32, what)?;
        if let Some(t) = opts.time_limit {
            set_opt(&mut model, "time_limit", t, what)?;
        }
        if let Some(v) = &self.start {
            // A rejected start is harmless: HiGHS then searches from scratch.
            let _ = model.try_set_solution(Some(v), None, None, None);
        }
        let solved = model.try_solve().map_err(|e| solver(what, format!("{e:?}")))?;
        let outcome = match solved.status() {
            HighsModelStatus::Optimal => MilpOutcome::Optimal,
            HighsModelStatus::ReachedTimeLimit
                if solved.primal_solution_status() == highs::HighsSolutionStatus::Feasible =>
            {
                MilpOutcome::TimeLimit
            }
            HighsModelStatus::ReachedTimeLimit => {
                return Err(SiteError::invalid(format!(
                    "{what}: the time limit passed before any feasible solution was found; allow more time"
                )));
            }
            HighsModelStatus::Infeasible => {
                return Err(SiteError::infeasible(
                    what,
                    "no choice of sites satisfies every constraint",
                    vec![],
                ));
            }
            s => return Err(solver(what, format!("HiGHS ended with status {s:?}"))),
        };
        let objective = solved.objective_value();
        // HiGHS calls a run "optimal" once the gap target is met: then its dual bound is the
        // proof; with a zero gap target the objective itself.
        let bound = match solved.double_info_value(c"mip_dual_bound") {
            Ok(b) if b.is_finite() => b,
            _ if outcome == MilpOutcome::Optimal => objective,
            // Stopped early without a dual bound: nothing is proven.
            _ if maximise => f64::INFINITY,
            _ => f64::NEG_INFINITY,
        };
        let values = solved.get_solution().columns().to_vec();
        Ok(MilpSolution {
            values,
            objective,
            bound: if outcome == MilpOutcome::Optimal && opts.rel_gap == 0.0 {
                objective
            } else {
                bound
            },
            outcome,
        })
    }
}

impl Default for Milp {
    fn default() -> Self {
        Milp::new()
    }
}

fn set_opt<V: highs::HighsOptionValue>(m: &mut highs::Model, key: &str, v: V, what: &str) -> Result<(), SiteError> {
    m.try_set_option(key, v)
        .map_err(|e| solver(what, format!("option {key}: {e:?}")))
}

fn solver(what: &str, msg: String) -> SiteError {
    SiteError::Solver(format!("{what}: {msg}"))
}
