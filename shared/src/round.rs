//! The order of a field agent's round: in which order to visit a list of stops, leaving from
//! where the agent is, so that the path is as short as possible.
//!
//! What it is, and what it is not:
//! - **Straight lines.** Distances are great-circle metres between the positions
//!   ([`distance_m`], haversine). There is no street network: no one-way streets, river
//!   crossings, travel times or opening hours. On a city's streets the real path is longer,
//!   and its best order may differ where the streets make detours.
//! - **Open path.** The round starts at the given position, visits every stop once and ends at
//!   the last stop. The way back is not counted and does not influence the order.
//! - **Heuristic.** The path is built by nearest neighbour, then improved by 2-opt (reverse a
//!   stretch) and Or-opt (move a run of 1–3 stops elsewhere, either way round) until no such
//!   move shortens it. That local optimum is then perturbed (two neighbouring stretches swap
//!   places) and improved again, keeping the shorter path, a fixed number of times. The result
//!   is not always optimal. The tests compare it with the exact optimum up to 9 stops, and
//!   docs/benchmarks.md with LKH-3: the same lengths on 20 rounds of 40 stops, 0.6 % longer
//!   on average (1.3 % at worst) on 20 rounds of 200.
//! - **Deterministic.** The perturbations use a fixed seed and a fixed count, not a time
//!   budget: the same input gives the same order every time, however busy the machine.
//! - **Cost.** The distances are computed once, into an (n + 2)² matrix of `f64`: time and
//!   memory grow with the square of the number of stops. A round is tens to a few hundred
//!   stops (200 stops: a 330 KB matrix and under 10 ms in a release build); thousands of stops
//!   should be split into rounds first.
//!
//! Input that is not a position never panics:
//! - a stop whose position is not valid ([`LatLon::is_valid`]: a NaN or infinite coordinate, a
//!   latitude beyond ±90° or a longitude beyond ±180°) is left out of the order and listed in
//!   [`Round::unplaced`];
//! - an invalid start means "start unknown": the round may begin at any stop, and its first
//!   leg counts 0 m;
//! - stops at the same position are visited one after the other, with legs of 0 m.

use std::collections::VecDeque;

use crate::geo::{LatLon, distance_m};
use crate::synthetic::Rng;

/// A round's visiting order and its length.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Round {
    /// Indices into the input stops, in visiting order. Every stop with a valid position appears
    /// exactly once.
    pub order: Vec<usize>,
    /// Straight-line metres of each leg: `legs_m[k]` leads from the previous stop to
    /// `order[k]`, and `legs_m[0]` from the start (0 when the start is unknown).
    pub legs_m: Vec<f64>,
    /// The sum of the legs, in metres.
    pub total_m: f64,
    /// Indices of the stops whose position is not valid, in input order; they are not in
    /// `order`.
    pub unplaced: Vec<usize>,
}

/// The visiting order of `stops` for the shortest open path found from `start` (see the
/// module's documentation for the method and its limits).
pub fn order_round(start: LatLon, stops: &[LatLon]) -> Round {
    let (placed, unplaced): (Vec<usize>, Vec<usize>) =
        (0..stops.len()).partition(|&i| stops[i].is_valid());
    let positions: Vec<LatLon> = placed.iter().map(|&i| stops[i]).collect();
    let matrix = Matrix::new(start.is_valid().then_some(start), &positions);
    let path = solve(&matrix);

    let mut legs_m = Vec::with_capacity(path.len());
    let mut previous = START;
    for &node in &path {
        legs_m.push(matrix.d(previous, node));
        previous = node;
    }
    Round {
        order: path.iter().map(|&node| placed[node - 1]).collect(),
        total_m: legs_m.iter().sum(),
        legs_m,
        unplaced,
    }
}

/// Node 0 is the start, nodes 1..=n the stops, node n + 1 a free end: 0 m from everything, and
/// kept last, so that the open path is a path between two fixed ends.
const START: usize = 0;

/// Gains below this (metres) are rounding noise, not improvements: it keeps the search from
/// cycling between equal paths (stops at the same position, say).
const EPS: f64 = 1e-7;

/// Candidate new neighbours per node for 2-opt and Or-opt moves.
const NEIGHBOURS: usize = 12;

/// Perturbations after the first local optimum: a fixed count, so the result does not depend
/// on the machine's speed.
fn perturbations(stops: usize) -> usize {
    if stops < 3 {
        0
    } else {
        (10 * stops + 200).min(3_000)
    }
}

/// Symmetric distances between the start, the stops and the free end.
struct Matrix {
    size: usize,
    d: Vec<f64>,
}

impl Matrix {
    fn new(start: Option<LatLon>, stops: &[LatLon]) -> Self {
        let size = stops.len() + 2;
        let mut d = vec![0.0; size * size];
        for (a, &pa) in stops.iter().enumerate() {
            let a = a + 1;
            let from_start = start.map_or(0.0, |s| distance_m(s, pa));
            d[a] = from_start;
            d[a * size] = from_start;
            for (b, &pb) in stops.iter().enumerate().skip(a) {
                let b = b + 1;
                let metres = distance_m(pa, pb);
                d[a * size + b] = metres;
                d[b * size + a] = metres;
            }
        }
        Self { size, d }
    }

    fn d(&self, a: usize, b: usize) -> f64 {
        self.d[a * self.size + b]
    }
}

/// The stops (nodes 1..=n) in visiting order.
fn solve(matrix: &Matrix) -> Vec<usize> {
    let stops = matrix.size - 2;
    if stops <= 1 {
        return (1..=stops).collect();
    }
    let mut search = Search::new(matrix, nearest_neighbour(matrix));
    search.queue_all();
    search.improve();

    let mut best = search.tour.clone();
    let mut best_length = search.length();
    let mut rng = Rng(0x005E_ED0F_A6E7);
    for _ in 0..perturbations(stops) {
        search.perturb(&mut rng);
        search.improve();
        let length = search.length();
        if length < best_length - EPS {
            best.copy_from_slice(&search.tour);
            best_length = length;
        } else {
            search.reset_to(&best);
        }
    }
    best[1..=stops].to_vec()
}

/// Start, stops by nearest neighbour (ties to the lowest index), free end.
fn nearest_neighbour(matrix: &Matrix) -> Vec<usize> {
    let end = matrix.size - 1;
    let mut visited = vec![false; matrix.size];
    let mut tour = Vec::with_capacity(matrix.size);
    let mut current = START;
    tour.push(current);
    for _ in 1..end {
        // `min_by` keeps the first of equal minima.
        let Some(next) = (1..end)
            .filter(|&node| !visited[node])
            .min_by(|&x, &y| matrix.d(current, x).total_cmp(&matrix.d(current, y)))
        else {
            break;
        };
        visited[next] = true;
        tour.push(next);
        current = next;
    }
    tour.push(end);
    tour
}

/// Local search on a path whose two ends (start and free end) never move.
struct Search<'a> {
    matrix: &'a Matrix,
    /// For each node but the end, its nearest other nodes (start included), nearest first.
    neighbours: Vec<Vec<usize>>,
    tour: Vec<usize>,
    /// Position of each node in `tour`.
    pos: Vec<usize>,
    queue: VecDeque<usize>,
    queued: Vec<bool>,
}

impl<'a> Search<'a> {
    fn new(matrix: &'a Matrix, tour: Vec<usize>) -> Self {
        let size = matrix.size;
        let end = size - 1;
        let neighbours = (0..end)
            .map(|a| {
                let mut others: Vec<usize> = (0..end).filter(|&b| b != a).collect();
                let by_distance = |x: &usize, y: &usize| {
                    matrix.d(a, *x).total_cmp(&matrix.d(a, *y)).then(x.cmp(y))
                };
                let k = NEIGHBOURS.min(others.len());
                if k < others.len() {
                    others.select_nth_unstable_by(k, by_distance);
                    others.truncate(k);
                }
                others.sort_unstable_by(by_distance);
                others
            })
            .collect();
        let mut search = Self {
            matrix,
            neighbours,
            pos: vec![0; size],
            tour,
            queue: VecDeque::with_capacity(size),
            queued: vec![false; size],
        };
        search.reset_positions(0, end);
        search
    }

    fn d(&self, a: usize, b: usize) -> f64 {
        self.matrix.d(a, b)
    }

    fn end(&self) -> usize {
        self.matrix.size - 1
    }

    fn length(&self) -> f64 {
        self.tour.windows(2).map(|w| self.d(w[0], w[1])).sum()
    }

    fn reset_positions(&mut self, from: usize, to: usize) {
        for i in from..=to {
            self.pos[self.tour[i]] = i;
        }
    }

    fn reset_to(&mut self, tour: &[usize]) {
        self.tour.copy_from_slice(tour);
        self.reset_positions(0, self.end());
    }

    fn push(&mut self, node: usize) {
        if !self.queued[node] {
            self.queued[node] = true;
            self.queue.push_back(node);
        }
    }

    fn queue_all(&mut self) {
        for i in 0..self.end() {
            self.push(self.tour[i]);
        }
    }

    /// Applies improving moves around queued nodes until none is left.
    fn improve(&mut self) {
        while let Some(a) = self.queue.pop_front() {
            self.queued[a] = false;
            if a != self.end() && (self.two_opt(a) || self.or_opt(a)) {
                self.push(a);
            }
        }
    }

    /// Reverses `tour[from..=to]`.
    fn reverse(&mut self, from: usize, to: usize) {
        self.tour[from..=to].reverse();
        self.reset_positions(from, to);
    }

    /// 2-opt with a new edge (a, c), c among a's neighbours: on the successor side it replaces
    /// (a, a1) and (c, c1) with (a, c) and (a1, c1), on the predecessor side (a0, a) and
    /// (c0, c) with (c, a) and (c0, a0).
    fn two_opt(&mut self, a: usize) -> bool {
        let i = self.pos[a];
        let a1 = self.tour[i + 1];
        let removed = self.d(a, a1);
        for k in 0..self.neighbours[a].len() {
            let c = self.neighbours[a][k];
            let g1 = removed - self.d(a, c);
            if g1 <= EPS {
                break;
            }
            let j = self.pos[c];
            if c == a1 || j + 1 == i {
                continue;
            }
            let c1 = self.tour[j + 1];
            if g1 + self.d(c, c1) - self.d(a1, c1) > EPS {
                if i < j {
                    self.reverse(i + 1, j);
                } else {
                    self.reverse(j + 1, i);
                }
                self.push_all([a, a1, c, c1]);
                return true;
            }
        }
        if i == 0 {
            return false;
        }
        let a0 = self.tour[i - 1];
        let removed = self.d(a0, a);
        for k in 0..self.neighbours[a].len() {
            let c = self.neighbours[a][k];
            let g1 = removed - self.d(a, c);
            if g1 <= EPS {
                break;
            }
            let j = self.pos[c];
            if j == 0 || c == a0 || j == i + 1 {
                continue;
            }
            let c0 = self.tour[j - 1];
            if g1 + self.d(c0, c) - self.d(a0, c0) > EPS {
                if j < i {
                    self.reverse(j, i - 1);
                } else {
                    self.reverse(i, j - 1);
                }
                self.push_all([a, a0, c, c0]);
                return true;
            }
        }
        false
    }

    /// Or-opt: moves a run of 1–3 stops that begins or ends with `a` next to one of a's
    /// neighbours, in whichever direction puts `a` beside it.
    fn or_opt(&mut self, a: usize) -> bool {
        let i = self.pos[a];
        let last = self.end() - 1;
        if i == 0 {
            return false;
        }
        for len in 1..=3 {
            if i + len - 1 <= last && self.move_run(a, i, i + len - 1) {
                return true;
            }
            if len > 1 && i >= len && self.move_run(a, i + 1 - len, i) {
                return true;
            }
        }
        false
    }

    /// Tries to move `tour[p..=q]`, one of whose ends is `a`, beside a neighbour of `a`.
    fn move_run(&mut self, a: usize, p: usize, q: usize) -> bool {
        let (s1, s2) = (self.tour[p], self.tour[q]);
        let (prev, next) = (self.tour[p - 1], self.tour[q + 1]);
        let removed = self.d(prev, s1) + self.d(s2, next) - self.d(prev, next);
        if removed <= EPS {
            return false;
        }
        let other = if a == s1 { s2 } else { s1 };
        for k in 0..self.neighbours[a].len() {
            let c = self.neighbours[a][k];
            let g1 = removed - self.d(a, c);
            if g1 <= EPS {
                break;
            }
            let j = self.pos[c];
            if (p..=q).contains(&j) {
                continue;
            }
            // c, a … other, c1
            if j + 1 != p {
                let c1 = self.tour[j + 1];
                if g1 + self.d(c, c1) - self.d(other, c1) > EPS {
                    self.move_segment(p, q, j, a != s1);
                    self.push_all([prev, next, s1, s2, c, c1]);
                    return true;
                }
            }
            // c0, other … a, c
            if j > 0 && j != q + 1 {
                let c0 = self.tour[j - 1];
                if g1 + self.d(c0, c) - self.d(c0, other) > EPS {
                    self.move_segment(p, q, j - 1, a != s2);
                    self.push_all([prev, next, s1, s2, c, c0]);
                    return true;
                }
            }
        }
        false
    }

    /// Moves `tour[p..=q]` to just after position `x` (outside `p - 1..=q`), reversed or not.
    fn move_segment(&mut self, p: usize, q: usize, x: usize, reversed: bool) {
        let len = q - p + 1;
        let (from, to, at) = if x > q {
            self.tour[p..=x].rotate_left(len);
            (p, x, x + 1 - len)
        } else {
            self.tour[x + 1..=q].rotate_right(len);
            (x + 1, q, x + 1)
        };
        if reversed {
            self.tour[at..at + len].reverse();
        }
        self.reset_positions(from, to);
    }

    /// Swaps two neighbouring stretches of stops (a double bridge on a path) and queues the
    /// ends of the changed edges.
    fn perturb(&mut self, rng: &mut Rng) {
        let stops = self.end() - 1;
        let longest = (stops / 2).clamp(1, 30) as u64;
        let first = 1 + rng.below(longest) as usize;
        let second = 1 + rng.below(longest) as usize;
        let p = 1 + rng.below((stops + 1 - first - second) as u64) as usize;
        let (m, q) = (p + first, p + first + second);
        let ends = [
            self.tour[p - 1],
            self.tour[p],
            self.tour[m - 1],
            self.tour[m],
            self.tour[q - 1],
            self.tour[q],
        ];
        self.tour[p..q].rotate_left(first);
        self.reset_positions(p, q - 1);
        self.push_all(ends);
    }

    fn push_all<const N: usize>(&mut self, nodes: [usize; N]) {
        for node in nodes {
            self.push(node);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geo::destination;
    use crate::synthetic::{RENNES, Rng};

    /// `n` stops uniformly in a square of `half_side_m` around Rennes.
    fn scatter(rng: &mut Rng, n: usize, half_side_m: f64) -> Vec<LatLon> {
        (0..n)
            .map(|_| {
                let north = destination(RENNES, 0.0, rng.range(-half_side_m, half_side_m));
                destination(north, 90.0, rng.range(-half_side_m, half_side_m))
            })
            .collect()
    }

    fn path_length(start: LatLon, stops: &[LatLon], order: &[usize]) -> f64 {
        let mut at = start;
        let mut total = 0.0;
        for &i in order {
            total += distance_m(at, stops[i]);
            at = stops[i];
        }
        total
    }

    /// The shortest open path from `start` through all `stops`, by trying every order
    /// (depth first, cutting branches already longer than the best).
    fn optimum(start: LatLon, stops: &[LatLon]) -> f64 {
        fn go(
            at: LatLon,
            stops: &[LatLon],
            used: &mut [bool],
            left: usize,
            so_far: f64,
            best: &mut f64,
        ) {
            if so_far >= *best {
                return;
            }
            if left == 0 {
                *best = so_far;
                return;
            }
            for i in 0..stops.len() {
                if !used[i] {
                    used[i] = true;
                    let leg = distance_m(at, stops[i]);
                    go(stops[i], stops, used, left - 1, so_far + leg, best);
                    used[i] = false;
                }
            }
        }
        let mut best = f64::INFINITY;
        let mut used = vec![false; stops.len()];
        go(start, stops, &mut used, stops.len(), 0.0, &mut best);
        best
    }

    fn assert_consistent(start: LatLon, stops: &[LatLon], round: &Round) {
        let mut seen = vec![false; stops.len()];
        for &i in round.order.iter().chain(&round.unplaced) {
            assert!(!seen[i], "stop {i} twice in {round:?}");
            seen[i] = true;
        }
        assert!(seen.iter().all(|&s| s), "a stop is missing from {round:?}");
        assert_eq!(round.legs_m.len(), round.order.len());
        let sum: f64 = round.legs_m.iter().sum();
        assert!(
            (sum - round.total_m).abs() <= 1e-9 * sum.max(1.0),
            "{round:?}"
        );
        if start.is_valid() {
            let length = path_length(start, stops, &round.order);
            assert!((length - round.total_m).abs() <= 1e-6, "{length} {round:?}");
            if let Some(&first) = round.order.first() {
                assert_eq!(round.legs_m[0], distance_m(start, stops[first]));
            }
        }
    }

    #[test]
    fn within_5_percent_of_the_optimum_up_to_9_stops() {
        let mut rng = Rng(2024);
        let (mut cases, mut optimal, mut worst) = (0, 0, 1.0_f64);
        for n in 0..=9 {
            for _ in 0..8 {
                let half_side = if rng.unit() < 0.5 { 1_500.0 } else { 10_000.0 };
                let start = scatter(&mut rng, 1, half_side)[0];
                let stops = scatter(&mut rng, n, half_side);
                let round = order_round(start, &stops);
                assert_consistent(start, &stops, &round);
                let best = optimum(start, &stops);
                assert!(round.total_m >= best - 1e-6, "better than the optimum? {n}");
                assert!(
                    round.total_m <= 1.05 * best + 1e-6,
                    "{n} stops: {} m vs {best} m",
                    round.total_m
                );
                cases += 1;
                if round.total_m <= best + 1e-6 {
                    optimal += 1;
                }
                if best > 0.0 {
                    worst = worst.max(round.total_m / best);
                }
            }
        }
        println!("{optimal} of {cases} optimal, worst ratio {worst:.4}");
    }

    #[test]
    fn no_stops_and_one_stop() {
        let round = order_round(RENNES, &[]);
        assert_eq!(round, Round::default());

        let stop = destination(RENNES, 45.0, 700.0);
        let round = order_round(RENNES, &[stop]);
        assert_eq!(round.order, [0]);
        assert!((round.legs_m[0] - 700.0).abs() < 1e-6, "{round:?}");
        assert_eq!(round.total_m, round.legs_m[0]);
        assert!(round.unplaced.is_empty());
    }

    #[test]
    fn stops_on_a_line_are_visited_outwards_from_the_start() {
        let stops: Vec<LatLon> = [900.0, 100.0, 500.0, 300.0, 700.0, 200.0]
            .iter()
            .map(|&m| destination(RENNES, 90.0, m))
            .collect();
        let round = order_round(RENNES, &stops);
        assert_eq!(round.order, [1, 5, 3, 2, 4, 0]);
        assert!((round.total_m - 900.0).abs() < 1e-6, "{round:?}");

        // From the middle of the line, to the nearer end first, then across to the far end
        // (the stops in between may be visited on the way out or on the way back).
        let start = destination(RENNES, 90.0, 400.0);
        let round = order_round(start, &stops);
        assert_eq!(round.order.last(), Some(&0));
        assert!((round.total_m - 1_100.0).abs() < 1e-6, "{round:?}");
    }

    #[test]
    fn the_start_is_fixed_even_when_another_start_would_be_shorter() {
        // From the middle of a line the path must go to one end and back across.
        let stops: Vec<LatLon> = (0..10)
            .map(|k| destination(RENNES, 90.0, f64::from(k) * 100.0))
            .collect();
        let start = destination(RENNES, 90.0, 350.0);
        let round = order_round(start, &stops);
        assert_consistent(start, &stops, &round);
        // 350 m west to the first stop, then 900 m east; not 550 + 900 m the other way.
        assert!((round.total_m - 1_250.0).abs() < 1e-6, "{round:?}");
        assert_eq!(round.order.last(), Some(&9));
    }

    #[test]
    fn clusters_are_visited_one_after_the_other() {
        let mut rng = Rng(7);
        let centres = [
            destination(RENNES, 0.0, 3_000.0),
            destination(RENNES, 120.0, 3_000.0),
            destination(RENNES, 240.0, 3_000.0),
        ];
        let mut stops = Vec::new();
        let mut cluster_of = Vec::new();
        for _ in 0..15 {
            for (c, &centre) in centres.iter().enumerate() {
                let bearing = rng.range(0.0, 360.0);
                stops.push(destination(centre, bearing, rng.range(0.0, 150.0)));
                cluster_of.push(c);
            }
        }
        let round = order_round(RENNES, &stops);
        assert_consistent(RENNES, &stops, &round);
        let changes = round
            .order
            .windows(2)
            .filter(|w| cluster_of[w[0]] != cluster_of[w[1]])
            .count();
        assert_eq!(changes, 2, "{round:?}");
        // Two hops of ~5.2 km between clusters, ~3 km to the first one.
        assert!(
            round.total_m < 3_000.0 + 2.0 * 5_196.0 + 3_000.0,
            "{round:?}"
        );
    }

    #[test]
    fn stops_at_the_same_place_are_visited_together() {
        let a = destination(RENNES, 10.0, 800.0);
        let b = destination(RENNES, 200.0, 600.0);
        let stops = [a, b, a, b, a, RENNES];
        let round = order_round(RENNES, &stops);
        assert_consistent(RENNES, &stops, &round);
        assert_eq!(round.order[0], 5);
        assert_eq!(round.legs_m.iter().filter(|&&m| m == 0.0).count(), 4);
        let best = 600.0 + distance_m(a, b);
        assert!((round.total_m - best).abs() < 1e-6, "{round:?}");

        let same = vec![a; 50];
        let round = order_round(a, &same);
        assert_consistent(a, &same, &round);
        assert_eq!(round.total_m, 0.0);
    }

    #[test]
    fn invalid_stops_are_left_out_and_listed() {
        let near = destination(RENNES, 90.0, 100.0);
        let far = destination(RENNES, 90.0, 300.0);
        let stops = [
            far,
            LatLon::new(f64::NAN, -1.68),
            near,
            LatLon::new(48.1, f64::INFINITY),
            LatLon::new(91.0, 0.0),
            LatLon::new(48.1, -181.0),
        ];
        let round = order_round(RENNES, &stops);
        assert_eq!(round.order, [2, 0]);
        assert_eq!(round.unplaced, [1, 3, 4, 5]);
        assert!((round.total_m - 300.0).abs() < 1e-6, "{round:?}");

        let round = order_round(RENNES, &[LatLon::new(f64::NAN, f64::NAN)]);
        assert!(round.order.is_empty() && round.total_m == 0.0);
        assert_eq!(round.unplaced, [0]);
    }

    #[test]
    fn an_invalid_start_lets_the_round_begin_anywhere() {
        let stops: Vec<LatLon> = [500.0, 0.0, 300.0, 100.0]
            .iter()
            .map(|&m| destination(RENNES, 90.0, m))
            .collect();
        for start in [
            LatLon::new(f64::NAN, 0.0),
            LatLon::new(0.0, f64::NEG_INFINITY),
            LatLon::new(-95.0, 0.0),
        ] {
            let round = order_round(start, &stops);
            assert_consistent(start, &stops, &round);
            assert_eq!(round.legs_m[0], 0.0);
            assert!((round.total_m - 500.0).abs() < 1e-6, "{round:?}");
            assert!(round.order == [1, 3, 2, 0] || round.order == [0, 2, 3, 1]);
        }
    }

    #[test]
    fn larger_rounds_are_permutations_and_deterministic() {
        let mut rng = Rng(99);
        for n in [2, 3, 10, 40, 120] {
            let start = scatter(&mut rng, 1, 10_000.0)[0];
            let stops = scatter(&mut rng, n, 10_000.0);
            let round = order_round(start, &stops);
            assert_consistent(start, &stops, &round);
            assert_eq!(round.order.len(), n);
            assert_eq!(order_round(start, &stops), round);
            // Never longer than the plain nearest-neighbour path it starts from.
            let matrix = Matrix::new(Some(start), &stops);
            let nn = nearest_neighbour(&matrix);
            let nn_length: f64 = nn.windows(2).map(|w| matrix.d(w[0], w[1])).sum();
            assert!(round.total_m <= nn_length + 1e-6, "{n}");
        }
    }
}
