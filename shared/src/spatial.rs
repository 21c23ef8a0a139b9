//! In-memory spatial index of open geolocated requests.
//!
//! The server keeps one [`IncidentIndex`] in sync with PostgreSQL and answers two read paths from
//! it: "is this already reported?" ([`IncidentIndex::nearby`], exact metres) and the public map
//! ([`IncidentIndex::clusters`], Web Mercator pixels). It is a cache: the dedup decision is
//! always taken by PostGIS inside the insert transaction, never here.
//!
//! Layout, chosen to stay near 100 bytes per incident:
//! - an R-tree whose leaves are the incidents themselves, with `f32` envelopes (positions are
//!   kept in `f64`; envelopes only guide the search and every hit is re-checked in `f64`);
//! - an id → envelope point map, so an incident can be found again in O(log n);
//! - per-level grid aggregates (count and coordinate sums per map cell, zooms
//!   0..=[`AGGREGATE_MAX_ZOOM`]) so unfiltered map queries cost a number of cells, not of points.
//!
//! Distances are `geo`'s haversine metres (see [`crate::geo`]); degree boxes are `geo` rectangles.
//!
//! Measured with 1,000,000 synthetic incidents by `cargo bench -p guichet-shared --bench spatial`
//! (`shared/benches/spatial.rs`): the figures are in docs/benchmarks.md.

use std::collections::HashMap;
use std::collections::hash_map::Entry as MapEntry;
use std::f64::consts::PI;
use std::fmt;
use std::ops::ControlFlow;

use rstar::{
    AABB, Envelope, ParentNode, RStarInsertionStrategy, RTree, RTreeNode, RTreeObject, RTreeParams,
    SelectionFunction,
};

use geo::{Coord, Intersects, Rect, coord};

use crate::geo::{EARTH_RADIUS_M, LatLon};

/// Upper bound on the number of features [`IncidentIndex::clusters`] returns, whatever the
/// viewport: a client asking for a huge bbox at a high zoom gets coarser cells instead.
pub const MAX_FEATURES: usize = 2000;

/// From this zoom on, the map shows individual incidents (unless that would exceed
/// [`MAX_FEATURES`]).
pub const POINTS_ZOOM: u8 = 18;

/// Highest zoom answered from the grid aggregates; above it clusters are built on the fly.
pub const AGGREGATE_MAX_ZOOM: u8 = 16;

/// Zooms above this are treated as this one: cells are already a few centimetres wide.
const MAX_ZOOM: u8 = 24;

/// A cluster cell is 64 px of a 256 px tile, i.e. a tile of the zoom two levels deeper: the
/// grid level of zoom z is z + 2.
const CELL_SHIFT: u8 = 2;

/// Every position is projected once to integer cell coordinates at this grid level; the cell
/// at any coarser level is a right shift, so parents and children always agree.
const CODE_LEVEL: u8 = MAX_ZOOM + CELL_SHIFT;

const AGG_MIN_LEVEL: u8 = CELL_SHIFT;
const AGG_MAX_LEVEL: u8 = AGGREGATE_MAX_ZOOM + CELL_SHIFT;
const AGG_LEVELS: usize = (AGG_MAX_LEVEL - AGG_MIN_LEVEL + 1) as usize;

/// Web Mercator stops here; incidents beyond it (none in a French city) fall in the edge rows.
const MERCATOR_MAX_LAT: f64 = 85.051_128_779_806_59;

/// Aggregate sums are fixed-point (1e-7 degree, about 1 cm) so that adding and removing the same
/// incident millions of times leaves no floating-point drift and empty cells sum to exactly 0.
const FIXED_SCALE: f64 = 1e7;

/// An open geolocated request as the read paths need it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Incident {
    pub id: i64,
    pub lat: f64,
    pub lon: f64,
    /// Index into a category table owned by the caller.
    pub category: u16,
    /// Small status code owned by the caller.
    pub status: u8,
    pub created_at_unix: i64,
}

impl Incident {
    pub fn position(&self) -> LatLon {
        LatLon::new(self.lat, self.lon)
    }

    /// The position as a `geo` coordinate (x = longitude, y = latitude).
    fn coord(&self) -> Coord {
        coord! { x: self.lon, y: self.lat }
    }
}

/// A map viewport in WGS84 degrees. `min_lon > max_lon` means the box crosses the antimeridian.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bbox {
    pub min_lon: f64,
    pub min_lat: f64,
    pub max_lon: f64,
    pub max_lat: f64,
}

/// One thing to draw on the map.
#[derive(Debug, Clone, PartialEq)]
pub enum MapFeature {
    Point(Incident),
    Cluster {
        count: u32,
        /// Mean position of the members.
        lat: f64,
        lon: f64,
        /// The zoom at which this cluster splits into more than one feature (where a click on
        /// it should zoom to).
        expansion_zoom: u8,
    },
}

/// An incident whose coordinates are not finite WGS84 degrees; it is not indexed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidPosition {
    pub id: i64,
}

impl fmt::Display for InvalidPosition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "incident {} has an invalid position", self.id)
    }
}

impl std::error::Error for InvalidPosition {}

/// The spatial index. See the module documentation.
pub struct IncidentIndex {
    tree: RTree<Leaf, TreeParams>,
    /// The `f32` point each incident is filed under in the tree, to find it again by id.
    positions: HashMap<i64, [f32; 2]>,
    /// `grid[level - AGG_MIN_LEVEL]`: non-empty cells only, keyed by [`cell_key`].
    grid: Vec<HashMap<u64, Agg>>,
    /// Tree insertions since the tree was built, for the memory estimate.
    tree_inserts: usize,
}

impl Default for IncidentIndex {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for IncidentIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IncidentIndex")
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}

impl IncidentIndex {
    pub fn new() -> Self {
        Self {
            tree: RTree::new_with_params(),
            positions: HashMap::new(),
            grid: vec![HashMap::new(); AGG_LEVELS],
            tree_inserts: 0,
        }
    }

    /// Builds the index in one go (start-up). For a repeated id the last occurrence wins.
    /// Incidents with an invalid position are returned instead of being indexed.
    pub fn bulk_load(incidents: Vec<Incident>) -> (Self, Vec<Incident>) {
        let mut positions = HashMap::with_capacity(incidents.len());
        let mut leaves = Vec::with_capacity(incidents.len());
        let mut rejected = Vec::new();
        // Walking backwards keeps the last occurrence of an id with a single map.
        for incident in incidents.into_iter().rev() {
            if !incident.position().is_valid() {
                rejected.push(incident);
                continue;
            }
            if let MapEntry::Vacant(slot) = positions.entry(incident.id) {
                slot.insert(tree_point(incident.lat, incident.lon));
                leaves.push(Leaf(incident));
            }
        }
        rejected.reverse();

        // Aggregate the finest level from the points, then each coarser level from the one
        // below: one hash update per point instead of one per point and level.
        let mut grid = vec![HashMap::new(); AGG_LEVELS];
        let shift = CODE_LEVEL - AGG_MAX_LEVEL;
        let finest = &mut grid[AGG_LEVELS - 1];
        for Leaf(incident) in &leaves {
            let code = Code::of(incident.lat, incident.lon);
            let agg: &mut Agg = finest
                .entry(cell_key(code.x >> shift, code.y >> shift))
                .or_default();
            agg.add(&Agg::of(incident));
        }
        for index in (0..AGG_LEVELS - 1).rev() {
            let mut coarser: HashMap<u64, Agg> = HashMap::new();
            for (&key, agg) in &grid[index + 1] {
                let (x, y) = split_key(key);
                coarser
                    .entry(cell_key(x >> 1, y >> 1))
                    .or_default()
                    .add(agg);
            }
            grid[index] = coarser;
        }

        let index = Self {
            tree: RTree::bulk_load_with_params(leaves),
            positions,
            grid,
            tree_inserts: 0,
        };
        (index, rejected)
    }

    pub fn len(&self) -> usize {
        self.positions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.positions.is_empty()
    }

    pub fn get(&self, id: i64) -> Option<Incident> {
        let point = *self.positions.get(&id)?;
        self.tree
            .locate_with_selection_function(ById { point, id })
            .next()
            .map(|leaf| leaf.0)
    }

    /// Inserts an incident, or replaces the one with the same id (moving it if its position
    /// changed). Returns the replaced version.
    pub fn upsert(&mut self, incident: Incident) -> Result<Option<Incident>, InvalidPosition> {
        if !incident.position().is_valid() {
            return Err(InvalidPosition { id: incident.id });
        }
        let point = tree_point(incident.lat, incident.lon);
        let Some(&old_point) = self.positions.get(&incident.id) else {
            self.insert_new(incident, point);
            return Ok(None);
        };
        if old_point == point {
            // Same tree envelope: overwrite in place, the tree structure does not change.
            let id = incident.id;
            let previous = self
                .tree
                .locate_with_selection_function_mut(ById {
                    point: old_point,
                    id,
                })
                .next()
                .map(|leaf| std::mem::replace(&mut leaf.0, incident));
            if let Some(previous) = previous {
                if previous.lat != incident.lat || previous.lon != incident.lon {
                    self.grid_remove(&previous);
                    self.grid_add(&incident);
                }
                return Ok(Some(previous));
            }
            // The map and the tree disagree; recover by treating it as a new incident.
            self.insert_new(incident, point);
            return Ok(None);
        }
        let previous = self.remove(incident.id);
        self.insert_new(incident, point);
        Ok(previous)
    }

    /// Removes an incident (closed, withdrawn, merged). Returns it if it was indexed.
    pub fn remove(&mut self, id: i64) -> Option<Incident> {
        let point = self.positions.remove(&id)?;
        let Leaf(incident) = self
            .tree
            .remove_with_selection_function(ById { point, id })?;
        self.grid_remove(&incident);
        Some(incident)
    }

    /// Incidents within `radius_m` metres (great-circle) of a position that pass `filter`,
    /// nearest first, at most `limit`, each with its distance in metres.
    pub fn nearby(
        &self,
        lat: f64,
        lon: f64,
        radius_m: f64,
        filter: impl Fn(&Incident) -> bool,
        limit: usize,
    ) -> Vec<(Incident, f64)> {
        // False for NaN too; an infinite radius means the whole planet.
        let radius_ok = radius_m >= 0.0;
        if limit == 0 || !radius_ok || !lat.is_finite() || !lon.is_finite() {
            return Vec::new();
        }
        let origin = LatLon::new(lat.clamp(-90.0, 90.0), normalize_lon(lon));
        let origin_cos = origin.lat.to_radians().cos();
        // A disc of angular radius π is the whole sphere; capping keeps the widening finite.
        let max_angle = (radius_m / EARTH_RADIUS_M).min(PI);
        // In a hotspot the full disc can hold thousands of incidents while ten are asked for:
        // search a smaller disc first (sized from the local density) and widen it until it
        // holds `limit` matches. Anything outside a searched disc is farther than everything
        // inside it, so stopping early is exact.
        let mut angle = self.first_search_angle(origin, max_angle, limit);
        let mut found: Vec<(f64, &Incident)> = Vec::new();
        loop {
            found.clear();
            let last = angle >= max_angle;
            let h_disc = haversine_term_of_angle(angle);
            // The haversine term grows with the distance, so candidates are compared on it and
            // the arcsine is only paid for the ones returned. The slack absorbs rounding; the
            // exact radius test happens on the final distance.
            let h_keep = h_disc * (1.0 + 1e-9) + 1e-18;
            let mut in_disc = 0;
            for area in search_areas(origin, angle) {
                self.visit(&area, |incident| {
                    if filter(incident) {
                        let h = haversine_term(origin, origin_cos, incident.lat, incident.lon);
                        if h <= h_keep {
                            found.push((h, incident));
                            in_disc += usize::from(h <= h_disc);
                        }
                    }
                    ControlFlow::Continue(())
                });
            }
            if last || in_disc >= limit {
                break;
            }
            // Aim for about 1.5 × limit matches next time, assuming uniform density.
            let growth = if in_disc == 0 {
                4.0
            } else {
                (1.5 * limit as f64 / in_disc as f64).sqrt().clamp(1.5, 4.0)
            };
            angle = (angle * growth).min(max_angle);
        }
        let by_distance = |a: &(f64, &Incident), b: &(f64, &Incident)| {
            a.0.total_cmp(&b.0).then(a.1.id.cmp(&b.1.id))
        };
        if found.len() > limit {
            found.select_nth_unstable_by(limit - 1, by_distance);
            found.truncate(limit);
        }
        found.sort_unstable_by(by_distance);
        found
            .into_iter()
            // This is `geo`'s `Haversine` distance (2 R asin √h, on the very same h), written
            // out because calling it would compute h and its four sines and cosines again for
            // every result: measured, that made `nearby` 8–16 % slower at p50. The tests check
            // that both give the same bits.
            .map(|(h, incident)| (*incident, 2.0 * EARTH_RADIUS_M * h.sqrt().min(1.0).asin()))
            // Sorted, so the few rounding-borderline ones can only sit at the end.
            .take_while(|&(_, distance)| distance <= radius_m)
            .collect()
    }

    /// Features to draw for a viewport at a map zoom: clusters of the incidents inside `bbox`
    /// (counts sum to the number of matching incidents inside it), or the incidents themselves
    /// from [`POINTS_ZOOM`] on. Never more than [`MAX_FEATURES`].
    ///
    /// `filter` is an `Option` so that unfiltered queries can be answered from the grid
    /// aggregates, which a closure could not be inspected for.
    pub fn clusters(
        &self,
        bbox: Bbox,
        zoom: u8,
        filter: Option<&dyn Fn(&Incident) -> bool>,
    ) -> Vec<MapFeature> {
        let windows = Window::split(bbox);
        if windows.is_empty() || self.is_empty() {
            return Vec::new();
        }
        let zoom = zoom.min(MAX_ZOOM);
        if zoom >= POINTS_ZOOM
            && let Some(points) = self.points_in(&windows, filter, MAX_FEATURES)
        {
            return points.into_iter().map(MapFeature::Point).collect();
        }
        let mut level = zoom + CELL_SHIFT;
        while level > 0
            && windows.iter().map(|w| w.cell_count(level)).sum::<u64>() > MAX_FEATURES as u64
        {
            level -= 1;
        }
        if filter.is_none() && (AGG_MIN_LEVEL..=AGG_MAX_LEVEL).contains(&level) {
            self.clusters_from_grid(&windows, level, zoom)
        } else {
            self.clusters_on_the_fly(&windows, level, zoom, filter)
        }
    }

    /// Estimated heap footprint in bytes: the tree, the id map and the aggregates.
    ///
    /// The hash maps are counted exactly from their capacity. The tree's child vectors are not
    /// visible: bulk loading sizes them exactly, while inserting tends to double a node's
    /// vector before it splits. Checked against a counting allocator with 1M incidents, the
    /// estimate (est.) tracks the allocated bytes (live) within a few percent, erring high
    /// for a tree built one insert at a time: after `bulk_load` 92.5 MB est. / 93.4 MB live,
    /// after 10 % moves 113 / 116, after 1M single inserts 143 / 130, after a further
    /// third of moves 144 / 144.
    pub fn approx_memory_bytes(&self) -> usize {
        let node = std::mem::size_of::<RTreeNode<Leaf>>();
        let exact = tree_slots(self.tree.root()) * node;
        // An insertion into an exactly sized node doubles its vector; measured, insertions
        // amounting to a quarter of the size have touched most nodes.
        let churn = (4 * self.tree_inserts).min(self.len()) as f64 / self.len().max(1) as f64;
        let tree = std::mem::size_of::<RTree<Leaf, TreeParams>>()
            + (exact as f64 * (1.0 + churn)) as usize;
        let ids = map_bytes(
            self.positions.capacity(),
            std::mem::size_of::<(i64, [f32; 2])>(),
        );
        let grid: usize = self
            .grid
            .iter()
            .map(|level| map_bytes(level.capacity(), std::mem::size_of::<(u64, Agg)>()))
            .sum();
        std::mem::size_of::<Self>() + tree + ids + grid
    }

    /// Angular radius of the first `nearby` disc: the one expected to hold about twice
    /// `limit` incidents given the density of the finest grid cell around the origin.
    fn first_search_angle(&self, origin: LatLon, max_angle: f64, limit: usize) -> f64 {
        // Beyond this, rounds would not save work: scan the whole disc at once.
        const MAX_ROUNDED_LIMIT: usize = 1000;
        if limit > MAX_ROUNDED_LIMIT {
            return max_angle;
        }
        let (x, y) = Code::of(origin.lat, origin.lon).at(AGG_MAX_LEVEL);
        let Some(cell) = self.cell(AGG_MAX_LEVEL, x, y) else {
            return max_angle;
        };
        // Mercator cells are square on the ground: 2πR·cos(lat) / 2^level on a side.
        let side = 2.0 * PI * origin.lat.to_radians().cos() / f64::from(1u32 << AGG_MAX_LEVEL);
        let density = f64::from(cell.count) / (side * side).max(f64::MIN_POSITIVE);
        // The floor bounds the number of widening rounds where the estimate degenerates (cells
        // near a pole have almost no area).
        const MIN_FIRST_RADIUS_M: f64 = 1.0;
        let angle = (2.0 * limit as f64 / (PI * density)).sqrt();
        angle
            .max(MIN_FIRST_RADIUS_M / EARTH_RADIUS_M)
            .min(max_angle)
    }

    /// Visits the incidents inside `area` until `visit` breaks.
    fn visit<'a>(&'a self, area: &Rect, mut visit: impl FnMut(&'a Incident) -> ControlFlow<()>) {
        let query = tree_envelope(area);
        let _ = walk(self.tree.root(), area, &query, &mut visit);
    }

    fn insert_new(&mut self, incident: Incident, point: [f32; 2]) {
        self.positions.insert(incident.id, point);
        self.tree.insert(Leaf(incident));
        self.tree_inserts += 1;
        self.grid_add(&incident);
    }

    fn grid_add(&mut self, incident: &Incident) {
        let code = Code::of(incident.lat, incident.lon);
        let delta = Agg::of(incident);
        for (index, cells) in self.grid.iter_mut().enumerate() {
            let (x, y) = code.at(AGG_MIN_LEVEL + index as u8);
            cells.entry(cell_key(x, y)).or_default().add(&delta);
        }
    }

    fn grid_remove(&mut self, incident: &Incident) {
        let code = Code::of(incident.lat, incident.lon);
        let delta = Agg::of(incident);
        for (index, cells) in self.grid.iter_mut().enumerate() {
            let (x, y) = code.at(AGG_MIN_LEVEL + index as u8);
            if let MapEntry::Occupied(mut cell) = cells.entry(cell_key(x, y)) {
                let agg = cell.get_mut();
                agg.subtract(&delta);
                if agg.count == 0 {
                    cell.remove();
                }
            }
        }
    }

    /// The aggregate of a cell, or `None` when it holds no incident.
    fn cell(&self, level: u8, x: u32, y: u32) -> Option<&Agg> {
        self.grid
            .get(usize::from(level.checked_sub(AGG_MIN_LEVEL)?))?
            .get(&cell_key(x, y))
    }

    fn points_in(
        &self,
        windows: &[Window],
        filter: Option<&dyn Fn(&Incident) -> bool>,
        cap: usize,
    ) -> Option<Vec<Incident>> {
        let mut points = Vec::new();
        for window in windows {
            let mut overflow = false;
            self.visit(&window.area, |incident| {
                if filter.is_none_or(|keep| keep(incident)) {
                    if points.len() == cap {
                        overflow = true;
                        return ControlFlow::Break(());
                    }
                    points.push(*incident);
                }
                ControlFlow::Continue(())
            });
            if overflow {
                return None;
            }
        }
        Some(points)
    }

    fn clusters_from_grid(&self, windows: &[Window], level: u8, zoom: u8) -> Vec<MapFeature> {
        let mut features = Vec::new();
        for window in windows {
            let (x0, x1, y0, y1) = window.cell_range(level);
            for y in y0..=y1 {
                for x in x0..=x1 {
                    let Some(full) = self.cell(level, x, y) else {
                        continue;
                    };
                    let (agg, clip) = match window.relation(level, x, y) {
                        Relation::Outside => continue,
                        Relation::Inside => (*full, None),
                        Relation::Partial => (self.clipped(level, x, y, window), Some(window)),
                    };
                    let feature = match agg.count {
                        0 => None,
                        1 => self.first_in_cell(level, x, y, clip).map(MapFeature::Point),
                        _ => Some(agg.cluster(expansion_zoom(
                            zoom,
                            self.grid_split_level(level, x, y, clip),
                        ))),
                    };
                    features.extend(feature);
                }
            }
        }
        features
    }

    /// The aggregate of the part of a cell inside a window: fully inside or outside children
    /// come from the grid, only cells straddling the window's edge go deeper, and at the finest
    /// level their incidents are read from the tree.
    fn clipped(&self, level: u8, x: u32, y: u32, window: &Window) -> Agg {
        let Some(full) = self.cell(level, x, y) else {
            return Agg::default();
        };
        match window.relation(level, x, y) {
            Relation::Outside => Agg::default(),
            Relation::Inside => *full,
            Relation::Partial if level == AGG_MAX_LEVEL => {
                let mut agg = Agg::default();
                self.for_each_in_cell(level, x, y, Some(window), |incident| {
                    agg.add(&Agg::of(incident));
                    ControlFlow::Continue(())
                });
                agg
            }
            Relation::Partial => {
                children(x, y)
                    .iter()
                    .fold(Agg::default(), |mut sum, &(cx, cy)| {
                        sum.add(&self.clipped(level + 1, cx, cy, window));
                        sum
                    })
            }
        }
    }

    /// The grid level at which the incidents of a cell (inside `clip`) first occupy more than
    /// one cell, looked up beyond the finest aggregate level only as far as zoom
    /// [`POINTS_ZOOM`] - 1 needs; `None` if they never split before [`POINTS_ZOOM`].
    fn grid_split_level(&self, level: u8, x: u32, y: u32, clip: Option<&Window>) -> Option<u8> {
        let (mut level, mut x, mut y) = (level, x, y);
        while level < AGG_MAX_LEVEL {
            let mut occupied = None;
            let mut count = 0;
            for (cx, cy) in children(x, y) {
                let non_empty = match clip {
                    None => self.cell(level + 1, cx, cy).is_some(),
                    Some(window) => self.clipped(level + 1, cx, cy, window).count > 0,
                };
                if non_empty {
                    count += 1;
                    occupied = Some((cx, cy));
                }
            }
            if count > 1 {
                return Some(level + 1);
            }
            (x, y) = occupied?;
            level += 1;
        }
        let next = AGG_MAX_LEVEL + 1;
        let mut first = None;
        let mut split = false;
        self.for_each_in_cell(level, x, y, clip, |incident| {
            let cell = Code::of(incident.lat, incident.lon).at(next);
            match first {
                None => first = Some(cell),
                Some(seen) if seen != cell => {
                    split = true;
                    return ControlFlow::Break(());
                }
                Some(_) => {}
            }
            ControlFlow::Continue(())
        });
        split.then_some(next)
    }

    fn first_in_cell(&self, level: u8, x: u32, y: u32, clip: Option<&Window>) -> Option<Incident> {
        let mut found = None;
        self.for_each_in_cell(level, x, y, clip, |incident| {
            found = Some(*incident);
            ControlFlow::Break(())
        });
        found
    }

    /// Visits the incidents whose cell at `level` is (x, y) and that lie inside `clip`.
    fn for_each_in_cell(
        &self,
        level: u8,
        x: u32,
        y: u32,
        clip: Option<&Window>,
        mut visit: impl FnMut(&Incident) -> ControlFlow<()>,
    ) {
        // The cell's corners in degrees come from the inverse projection, which can disagree
        // with the forward one in the last bits: search a hair wider, then test the cell id.
        const MARGIN: f64 = 1e-9;
        let (min_lon, min_lat, max_lon, max_lat) = cell_bounds(level, x, y);
        let cell = deg_box(
            min_lon - MARGIN,
            min_lat - MARGIN,
            max_lon + MARGIN,
            max_lat + MARGIN,
        );
        let area = match clip {
            None => cell,
            Some(window) => match intersection(&cell, &window.area) {
                Some(area) => area,
                None => return,
            },
        };
        self.visit(&area, |incident| {
            if Code::of(incident.lat, incident.lon).at(level) == (x, y) {
                visit(incident)
            } else {
                ControlFlow::Continue(())
            }
        });
    }

    fn clusters_on_the_fly(
        &self,
        windows: &[Window],
        level: u8,
        zoom: u8,
        filter: Option<&dyn Fn(&Incident) -> bool>,
    ) -> Vec<MapFeature> {
        let shift = CODE_LEVEL - level;
        let mut features = Vec::new();
        for window in windows {
            let (x0, x1, y0, y1) = window.cell_range(level);
            let width = (x1 - x0 + 1) as usize;
            let mut bins: Vec<Option<Bin>> = vec![None; width * (y1 - y0 + 1) as usize];
            let rows = Rows::new(level, y0, y1);
            let mut row_hint = 0;
            self.visit(&window.area, |incident| {
                if !filter.is_none_or(|keep| keep(incident)) {
                    return ControlFlow::Continue(());
                }
                let x = code_x(incident.lon) >> shift;
                let y = rows.row(incident.lat, &mut row_hint);
                // A point inside the window always lands in the window's cell range.
                if !(x0..=x1).contains(&x) || !(y0..=y1).contains(&y) {
                    return ControlFlow::Continue(());
                }
                if let Some(bin) = bins.get_mut((y - y0) as usize * width + (x - x0) as usize) {
                    match bin {
                        None => *bin = Some(Bin::new(incident)),
                        Some(bin) => bin.add(incident),
                    }
                }
                ControlFlow::Continue(())
            });
            features.extend(bins.into_iter().flatten().map(|bin| {
                if bin.agg.count == 1 {
                    MapFeature::Point(bin.first)
                } else {
                    bin.agg.cluster(expansion_zoom(zoom, bin.split_level()))
                }
            }));
        }
        features
    }
}

/// Recursive R-tree search. Unlike rstar's iterators it stops testing points under a node
/// that lies strictly inside the query, which is most of the tree for a city-wide viewport.
fn walk<'a>(
    node: &'a ParentNode<Leaf>,
    area: &Rect,
    query: &AABB<[f32; 2]>,
    visit: &mut impl FnMut(&'a Incident) -> ControlFlow<()>,
) -> ControlFlow<()> {
    for child in node.children() {
        match child {
            RTreeNode::Leaf(Leaf(incident)) => {
                // `Intersects`, not `Contains`: a point on the boundary is in the box.
                if area.intersects(&incident.coord()) {
                    visit(incident)?;
                }
            }
            RTreeNode::Parent(parent) => {
                let envelope = parent.envelope();
                if !envelope.intersects(query) {
                    continue;
                }
                if strictly_inside(&envelope, query) {
                    walk_all(parent, visit)?;
                } else {
                    walk(parent, area, query, visit)?;
                }
            }
        }
    }
    ControlFlow::Continue(())
}

fn walk_all<'a>(
    node: &'a ParentNode<Leaf>,
    visit: &mut impl FnMut(&'a Incident) -> ControlFlow<()>,
) -> ControlFlow<()> {
    for child in node.children() {
        match child {
            RTreeNode::Leaf(Leaf(incident)) => visit(incident)?,
            RTreeNode::Parent(parent) => walk_all(parent, visit)?,
        }
    }
    ControlFlow::Continue(())
}

/// Strictly inside in `f32` implies inside in `f64`: rounding is monotonic, so a coordinate
/// whose `f32` exceeds the rounded bound exceeds the bound itself.
fn strictly_inside(inner: &AABB<[f32; 2]>, outer: &AABB<[f32; 2]>) -> bool {
    let (inner_low, inner_high) = (inner.lower(), inner.upper());
    let (outer_low, outer_high) = (outer.lower(), outer.upper());
    inner_low[0] > outer_low[0]
        && inner_low[1] > outer_low[1]
        && inner_high[0] < outer_high[0]
        && inner_high[1] < outer_high[1]
}

/// Zoom to jump to when a cluster is clicked, from the grid level where its members split.
fn expansion_zoom(zoom: u8, split_level: Option<u8>) -> u8 {
    let natural = split_level.map_or(POINTS_ZOOM, |level| {
        level.saturating_sub(CELL_SHIFT).min(POINTS_ZOOM)
    });
    // A coarsened viewport can hold clusters that would already split at its own zoom: the
    // next zoom (with its smaller viewport) is then where they split.
    natural.max(zoom.saturating_add(1))
}

/// Wider nodes than rstar's default (3..=6): measured with 1M incidents, they cut the whole
/// index's memory after incremental updates by 10–20 % (fewer, fuller child vectors), speed up
/// city-wide scans by a third and `nearby` slightly.
struct TreeParams;

impl RTreeParams for TreeParams {
    const MIN_SIZE: usize = 8;
    const MAX_SIZE: usize = 24;
    const REINSERTION_COUNT: usize = 6;
    type DefaultInsertionStrategy = RStarInsertionStrategy;
}

/// The R-tree leaf: the incident itself, filed under an `f32` point.
#[derive(Debug, Clone, Copy)]
struct Leaf(Incident);

impl RTreeObject for Leaf {
    type Envelope = AABB<[f32; 2]>;

    fn envelope(&self) -> Self::Envelope {
        AABB::from_point(tree_point(self.0.lat, self.0.lon))
    }
}

/// Tree coordinates are (lon, lat) in `f32`. Rounding to nearest is monotonic, so a point
/// inside an `f64` box is inside the same box rounded to `f32`: searches may return a few extra
/// candidates (filtered in `f64`) but never miss one.
fn tree_point(lat: f64, lon: f64) -> [f32; 2] {
    [lon as f32, lat as f32]
}

struct ById {
    point: [f32; 2],
    id: i64,
}

impl SelectionFunction<Leaf> for ById {
    fn should_unpack_parent(&self, envelope: &AABB<[f32; 2]>) -> bool {
        envelope.contains_point(&self.point)
    }

    fn should_unpack_leaf(&self, leaf: &Leaf) -> bool {
        leaf.0.id == self.id
    }
}

/// Count and fixed-point coordinate sums of the incidents of a cell.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Agg {
    count: u32,
    sum_lat: i64,
    sum_lon: i64,
}

impl Agg {
    fn of(incident: &Incident) -> Self {
        Self {
            count: 1,
            sum_lat: to_fixed(incident.lat),
            sum_lon: to_fixed(incident.lon),
        }
    }

    fn add(&mut self, other: &Agg) {
        self.count += other.count;
        self.sum_lat += other.sum_lat;
        self.sum_lon += other.sum_lon;
    }

    fn subtract(&mut self, other: &Agg) {
        self.count = self.count.saturating_sub(other.count);
        self.sum_lat -= other.sum_lat;
        self.sum_lon -= other.sum_lon;
    }

    fn cluster(&self, expansion_zoom: u8) -> MapFeature {
        let n = f64::from(self.count.max(1)) * FIXED_SCALE;
        MapFeature::Cluster {
            count: self.count,
            lat: self.sum_lat as f64 / n,
            lon: self.sum_lon as f64 / n,
            expansion_zoom,
        }
    }
}

/// Degrees to fixed point, rounding half to even. Adding and subtracting 1.5 × 2^52 rounds to
/// an integer in two additions, where `f64::round` is a libm call: it runs for every incident
/// of an on-the-fly clustering pass. Exact for |degrees × 1e7| < 2^51, i.e. any coordinate.
fn to_fixed(degrees: f64) -> i64 {
    const ROUNDER: f64 = 6_755_399_441_055_744.0;
    ((degrees * FIXED_SCALE + ROUNDER) - ROUNDER) as i64
}

/// A cell being filled by an on-the-fly clustering pass.
#[derive(Debug, Clone, Copy)]
struct Bin {
    agg: Agg,
    first: Incident,
    min_lat: f64,
    max_lat: f64,
    min_lon: f64,
    max_lon: f64,
}

impl Bin {
    fn new(incident: &Incident) -> Self {
        Self {
            agg: Agg::of(incident),
            first: *incident,
            min_lat: incident.lat,
            max_lat: incident.lat,
            min_lon: incident.lon,
            max_lon: incident.lon,
        }
    }

    fn add(&mut self, incident: &Incident) {
        self.agg.add(&Agg::of(incident));
        self.min_lat = self.min_lat.min(incident.lat);
        self.max_lat = self.max_lat.max(incident.lat);
        self.min_lon = self.min_lon.min(incident.lon);
        self.max_lon = self.max_lon.max(incident.lon);
    }

    /// Cell codes are monotonic in longitude and latitude, so the members occupy more than one
    /// cell at a level exactly when the extreme corners of their box do: the first such level
    /// is given by the highest bit in which the corners' codes differ.
    fn split_level(&self) -> Option<u8> {
        let north_west = Code::of(self.max_lat, self.min_lon);
        let south_east = Code::of(self.min_lat, self.max_lon);
        let differ = (north_west.x ^ south_east.x) | (north_west.y ^ south_east.y);
        if differ == 0 {
            return None;
        }
        let highest_bit = 31 - differ.leading_zeros() as u8;
        Some(CODE_LEVEL.saturating_sub(highest_bit))
    }
}

/// Finds the cell row of a latitude at one level by comparing with the rows' edge latitudes
/// instead of projecting every point (a sine and a logarithm each).
struct Rows {
    level: u8,
    first: u32,
    /// `edges[i]` is the northern edge of row `first + i`; one more closes the last row.
    edges: Vec<f64>,
}

impl Rows {
    /// Closer than this to an edge, the inverse projection's rounding could put a point in the
    /// other row than [`Code::of`] does: those few points are projected exactly.
    const EDGE_TOLERANCE: f64 = 1e-9;

    fn new(level: u8, first: u32, last: u32) -> Self {
        let edges = (first..=last + 1)
            .map(|y| {
                let (_, min_lat, _, max_lat) = cell_bounds(level, 0, y.min(last));
                if y > last { min_lat } else { max_lat }
            })
            .collect();
        Self {
            level,
            first,
            edges,
        }
    }

    fn row(&self, lat: f64, hint: &mut usize) -> u32 {
        let inside = |i: usize| {
            matches!((self.edges.get(i), self.edges.get(i + 1)), (Some(&north), Some(&south))
                if lat < north - Self::EDGE_TOLERANCE && lat > south + Self::EDGE_TOLERANCE)
        };
        // Tree leaves come in spatial order, so the previous row is usually right.
        if !inside(*hint) {
            *hint = self
                .edges
                .partition_point(|&edge| edge >= lat)
                .saturating_sub(1);
            if !inside(*hint) {
                return Code::of(lat, 0.0).at(self.level).1;
            }
        }
        self.first + *hint as u32
    }
}

/// Web Mercator cell coordinates at [`CODE_LEVEL`] (x eastwards, y southwards).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Code {
    x: u32,
    y: u32,
}

impl Code {
    fn of(lat: f64, lon: f64) -> Self {
        Self {
            x: code_x(lon),
            y: code_y(lat),
        }
    }

    fn at(self, level: u8) -> (u32, u32) {
        let shift = CODE_LEVEL - level;
        (self.x >> shift, self.y >> shift)
    }
}

const CODE_CELLS: f64 = (1u64 << CODE_LEVEL) as f64;

// Truncation after clamping to non-negative values is the floor, without a libm call.
fn code_x(lon: f64) -> u32 {
    ((lon + 180.0) / 360.0 * CODE_CELLS).clamp(0.0, CODE_CELLS - 1.0) as u32
}

fn code_y(lat: f64) -> u32 {
    let sin = lat
        .clamp(-MERCATOR_MAX_LAT, MERCATOR_MAX_LAT)
        .to_radians()
        .sin();
    ((0.5 - ((1.0 + sin) / (1.0 - sin)).ln() / (4.0 * PI)) * CODE_CELLS)
        .clamp(0.0, CODE_CELLS - 1.0) as u32
}

fn cell_key(x: u32, y: u32) -> u64 {
    (u64::from(x) << 32) | u64::from(y)
}

fn split_key(key: u64) -> (u32, u32) {
    ((key >> 32) as u32, key as u32)
}

fn children(x: u32, y: u32) -> [(u32, u32); 4] {
    let (x, y) = (x << 1, y << 1);
    [(x, y), (x + 1, y), (x, y + 1), (x + 1, y + 1)]
}

/// (min_lon, min_lat, max_lon, max_lat) of a cell; the edge rows extend to the poles because
/// incidents beyond the Mercator limit are filed there.
fn cell_bounds(level: u8, x: u32, y: u32) -> (f64, f64, f64, f64) {
    let n = f64::from(1u32 << level);
    let lon = |x: u32| f64::from(x) / n * 360.0 - 180.0;
    let lat = |y: u32| {
        (PI * (1.0 - 2.0 * f64::from(y) / n))
            .sinh()
            .atan()
            .to_degrees()
    };
    let max_lat = if y == 0 { 90.0 } else { lat(y) };
    let min_lat = if f64::from(y + 1) >= n {
        -90.0
    } else {
        lat(y + 1)
    };
    (lon(x), min_lat, lon(x + 1), max_lat)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Relation {
    Outside,
    Inside,
    Partial,
}

/// A viewport part that does not cross the antimeridian, with its bounds also in
/// [`CODE_LEVEL`] cell coordinates.
#[derive(Debug, Clone, Copy)]
struct Window {
    area: Rect,
    /// Inclusive code bounds; -1 and 2^CODE_LEVEL stand for "the whole world on this side", so
    /// that cells along the world's edge can count as inside.
    x_min: i64,
    x_max: i64,
    y_min: i64,
    y_max: i64,
}

impl Window {
    fn split(bbox: Bbox) -> Vec<Window> {
        let Bbox {
            min_lon,
            min_lat,
            max_lon,
            max_lat,
        } = bbox;
        if ![min_lon, min_lat, max_lon, max_lat]
            .iter()
            .all(|v| v.is_finite())
            || min_lat > max_lat
        {
            return Vec::new();
        }
        let (min_lat, max_lat) = (min_lat.clamp(-90.0, 90.0), max_lat.clamp(-90.0, 90.0));
        if max_lon - min_lon >= 360.0 {
            return vec![Window::new(-180.0, min_lat, 180.0, max_lat)];
        }
        let (min_lon, max_lon) = (normalize_lon(min_lon), normalize_lon(max_lon));
        if min_lon <= max_lon {
            vec![Window::new(min_lon, min_lat, max_lon, max_lat)]
        } else {
            vec![
                Window::new(min_lon, min_lat, 180.0, max_lat),
                Window::new(-180.0, min_lat, max_lon, max_lat),
            ]
        }
    }

    fn new(min_lon: f64, min_lat: f64, max_lon: f64, max_lat: f64) -> Self {
        let world = 1i64 << CODE_LEVEL;
        let south_west = Code::of(min_lat, min_lon);
        let north_east = Code::of(max_lat, max_lon);
        Self {
            area: deg_box(min_lon, min_lat, max_lon, max_lat),
            x_min: if min_lon <= -180.0 {
                -1
            } else {
                i64::from(south_west.x)
            },
            x_max: if max_lon >= 180.0 {
                world
            } else {
                i64::from(north_east.x)
            },
            y_min: if max_lat >= 90.0 {
                -1
            } else {
                i64::from(north_east.y)
            },
            y_max: if min_lat <= -90.0 {
                world
            } else {
                i64::from(south_west.y)
            },
        }
    }

    /// Inclusive (x0, x1, y0, y1) of the cells at `level` the window touches.
    fn cell_range(&self, level: u8) -> (u32, u32, u32, u32) {
        let shift = CODE_LEVEL - level;
        let last = (1i64 << CODE_LEVEL) - 1;
        let cell = |code: i64| (code.clamp(0, last) >> shift) as u32;
        (
            cell(self.x_min),
            cell(self.x_max),
            cell(self.y_min),
            cell(self.y_max),
        )
    }

    fn cell_count(&self, level: u8) -> u64 {
        let (x0, x1, y0, y1) = self.cell_range(level);
        u64::from(x1 - x0 + 1) * u64::from(y1 - y0 + 1)
    }

    /// Decided in code space: a point inside the window has its code within the window's code
    /// bounds (projection is monotonic), so a cell strictly within them only holds points
    /// inside the window, and a cell outside them none. Cells touching a bound are partial.
    fn relation(&self, level: u8, x: u32, y: u32) -> Relation {
        let shift = CODE_LEVEL - level;
        let (cx0, cy0) = (i64::from(x) << shift, i64::from(y) << shift);
        let (cx1, cy1) = (cx0 + (1 << shift) - 1, cy0 + (1 << shift) - 1);
        if cx1 < self.x_min || cx0 > self.x_max || cy1 < self.y_min || cy0 > self.y_max {
            Relation::Outside
        } else if cx0 > self.x_min && cx1 < self.x_max && cy0 > self.y_min && cy1 < self.y_max {
            Relation::Inside
        } else {
            Relation::Partial
        }
    }
}

/// A box in degrees (x = longitude, y = latitude) that does not cross the antimeridian.
fn deg_box(min_lon: f64, min_lat: f64, max_lon: f64, max_lat: f64) -> Rect {
    Rect::new(
        coord! { x: min_lon, y: min_lat },
        coord! { x: max_lon, y: max_lat },
    )
}

/// The `f32` tree envelope of a box: rounding is monotonic, so it holds every leaf whose
/// position is in the box.
fn tree_envelope(area: &Rect) -> AABB<[f32; 2]> {
    let (min, max) = (area.min(), area.max());
    AABB::from_corners(tree_point(min.y, min.x), tree_point(max.y, max.x))
}

/// The common part of two boxes, if they share a point.
fn intersection(a: &Rect, b: &Rect) -> Option<Rect> {
    let min = coord! { x: a.min().x.max(b.min().x), y: a.min().y.max(b.min().y) };
    let max = coord! { x: a.max().x.min(b.max().x), y: a.max().y.min(b.max().y) };
    // `Rect::new` would reorder the corners of an empty result into a non-empty box.
    (min.x <= max.x && min.y <= max.y).then(|| Rect::new(min, max))
}

fn normalize_lon(lon: f64) -> f64 {
    if (-180.0..=180.0).contains(&lon) {
        lon
    } else {
        (lon + 180.0).rem_euclid(360.0) - 180.0
    }
}

/// The haversine term of a distance given as an angle (radians); a whole-sphere disc takes
/// everything.
fn haversine_term_of_angle(angle: f64) -> f64 {
    if angle >= PI {
        f64::INFINITY
    } else {
        (angle / 2.0).sin().powi(2)
    }
}

/// The haversine term h of `geo`'s `Haversine` distance, in the same order of operations, so
/// that the distances `nearby` returns (2 R asin √h) are bit for bit those of
/// [`crate::geo::distance_m`]. Written out because the scan evaluates it for every candidate,
/// with the origin's cosine computed once, and ranks on h without the arcsine.
fn haversine_term(origin: LatLon, origin_cos: f64, lat: f64, lon: f64) -> f64 {
    let dphi = (lat - origin.lat).to_radians();
    let dlambda = (lon - origin.lon).to_radians();
    (dphi / 2.0).sin().powi(2) + origin_cos * lat.to_radians().cos() * (dlambda / 2.0).sin().powi(2)
}

/// Degree boxes covering the spherical cap of angular radius `angle` around `origin`: one box,
/// or two when the cap crosses the antimeridian.
fn search_areas(origin: LatLon, angle: f64) -> Vec<Rect> {
    // Outward slack so that rounding in the bounds below never drops a point on the circle.
    let pad = |degrees: f64| degrees * (1.0 + 1e-9) + 1e-9;
    let dlat = pad(angle.to_degrees());
    let (min_lat, max_lat) = (
        (origin.lat - dlat).max(-90.0),
        (origin.lat + dlat).min(90.0),
    );
    let area = |min_lon: f64, max_lon: f64| deg_box(min_lon, min_lat, max_lon, max_lat);
    let world = vec![area(-180.0, 180.0)];
    if origin.lat - dlat <= -90.0 || origin.lat + dlat >= 90.0 {
        return world;
    }
    // Largest longitude offset on a cap that does not contain a pole: asin(sin r / cos lat).
    // It widens as 1/cos(lat) towards the poles.
    let ratio = angle.sin() / origin.lat.to_radians().cos();
    // Also catches the NaN of a zero cosine at a pole.
    if ratio.is_nan() || ratio >= 1.0 {
        return world;
    }
    let dlon = pad(ratio.asin().to_degrees());
    if dlon >= 180.0 {
        return world;
    }
    let (min_lon, max_lon) = (origin.lon - dlon, origin.lon + dlon);
    if min_lon < -180.0 {
        vec![area(min_lon + 360.0, 180.0), area(-180.0, max_lon)]
    } else if max_lon > 180.0 {
        vec![area(min_lon, 180.0), area(-180.0, max_lon - 360.0)]
    } else {
        vec![area(min_lon, max_lon)]
    }
}

/// Number of child slots in use under a node (every leaf and every node but the root).
fn tree_slots(node: &ParentNode<Leaf>) -> usize {
    let children = node.children();
    children.len()
        + children
            .iter()
            .map(|child| match child {
                RTreeNode::Parent(parent) => tree_slots(parent),
                RTreeNode::Leaf(_) => 0,
            })
            .sum::<usize>()
}

/// hashbrown's layout: a power-of-two number of buckets at most 7/8 full, one control byte per
/// bucket plus a group's worth.
fn map_bytes(capacity: usize, entry_size: usize) -> usize {
    if capacity == 0 {
        return 0;
    }
    let buckets = (capacity.saturating_mul(8) / 7).next_power_of_two();
    buckets * (entry_size + 1) + 16
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geo::{destination, distance_m};
    use crate::synthetic::{CITY, RENNES, Rng, incidents as synthetic};

    fn incident(id: i64, at: LatLon) -> Incident {
        Incident {
            id,
            lat: at.lat,
            lon: at.lon,
            category: 0,
            status: 0,
            created_at_unix: 1_700_000_000 + id,
        }
    }

    fn inside(bbox: &Bbox, i: &Incident) -> bool {
        let lon_ok = if bbox.min_lon <= bbox.max_lon {
            (bbox.min_lon..=bbox.max_lon).contains(&i.lon)
        } else {
            i.lon >= bbox.min_lon || i.lon <= bbox.max_lon
        };
        lon_ok && (bbox.min_lat..=bbox.max_lat).contains(&i.lat)
    }

    fn total(features: &[MapFeature]) -> u64 {
        features
            .iter()
            .map(|f| match f {
                MapFeature::Point(_) => 1,
                MapFeature::Cluster { count, .. } => u64::from(*count),
            })
            .sum()
    }

    fn sorted(mut features: Vec<MapFeature>) -> Vec<MapFeature> {
        let key = |f: &MapFeature| match f {
            MapFeature::Point(i) => (i.lat, i.lon, 1),
            MapFeature::Cluster {
                lat, lon, count, ..
            } => (*lat, *lon, *count),
        };
        features.sort_by(|a, b| key(a).partial_cmp(&key(b)).unwrap());
        features
    }

    fn bbox_around(centre: LatLon, half_width_m: f64) -> Bbox {
        let ne = destination(destination(centre, 0.0, half_width_m), 90.0, half_width_m);
        let sw = destination(
            destination(centre, 180.0, half_width_m),
            270.0,
            half_width_m,
        );
        Bbox {
            min_lon: sw.lon,
            min_lat: sw.lat,
            max_lon: ne.lon,
            max_lat: ne.lat,
        }
    }

    fn all(_: &Incident) -> bool {
        true
    }

    #[test]
    fn nearby_is_sorted_and_the_radius_is_exact() {
        let mut index = IncidentIndex::new();
        let placed = [
            (1, 80.0, 10.0),
            (2, 49.9, 200.0),
            (3, 5.0, 300.0),
            (4, 50.1, 45.0),
            (5, 20.0, 90.0),
            (6, 10.0, 0.0),
        ];
        for (id, metres, bearing) in placed {
            index
                .upsert(incident(id, destination(RENNES, bearing, metres)))
                .unwrap();
        }
        let found = index.nearby(RENNES.lat, RENNES.lon, 50.0, all, 10);
        let ids: Vec<i64> = found.iter().map(|(i, _)| i.id).collect();
        assert_eq!(ids, [3, 6, 5, 2]);
        for ((i, d), expected) in found.iter().zip([5.0, 10.0, 20.0, 49.9]) {
            assert_eq!(*d, distance_m(RENNES, i.position()));
            assert!((d - expected).abs() < 1e-6, "{d} vs {expected}");
        }
        let wider = index.nearby(RENNES.lat, RENNES.lon, 50.2, all, 10);
        assert_eq!(wider.len(), 5);
        assert_eq!(wider[4].0.id, 4);
        assert!(
            index
                .nearby(RENNES.lat, RENNES.lon, 4.9, all, 10)
                .is_empty()
        );
        assert!(
            index
                .nearby(RENNES.lat, RENNES.lon, f64::NAN, all, 10)
                .is_empty()
        );
        assert!(index.nearby(f64::NAN, RENNES.lon, 50.0, all, 10).is_empty());
    }

    #[test]
    fn nearby_applies_filter_and_limit() {
        let mut index = IncidentIndex::new();
        for id in 0..20 {
            let at = destination(RENNES, id as f64 * 18.0, 10.0 + id as f64);
            let category = (id % 3) as u16;
            index
                .upsert(Incident {
                    category,
                    ..incident(id, at)
                })
                .unwrap();
        }
        let found = index.nearby(RENNES.lat, RENNES.lon, 100.0, |i| i.category == 1, 3);
        let ids: Vec<i64> = found.iter().map(|(i, _)| i.id).collect();
        assert_eq!(ids, [1, 4, 7]);
        assert!(
            index
                .nearby(RENNES.lat, RENNES.lon, 100.0, all, 0)
                .is_empty()
        );
        assert_eq!(
            index
                .nearby(RENNES.lat, RENNES.lon, 100.0, all, usize::MAX)
                .len(),
            20
        );
    }

    #[test]
    fn nearby_matches_brute_force_on_random_data() {
        let data = synthetic(20_000, 7);
        let (index, rejected) = IncidentIndex::bulk_load(data.clone());
        assert!(rejected.is_empty());
        let mut rng = Rng(99);
        for round in 0..400 {
            let probe = data[rng.below(data.len() as u64) as usize].position();
            let radius = rng.range(1.0, 400.0);
            let limit = [1, 3, 10, 50, 5_000][round % 5];
            // Half the probes unfiltered, so the dense hotspots stop the widening search early.
            let category = if round % 2 == 0 {
                Some(rng.below(30) as u16)
            } else {
                None
            };
            let keep = |i: &Incident| category.is_none_or(|c| i.category == c);
            let mut expected: Vec<(f64, i64)> = data
                .iter()
                .filter(|i| keep(i))
                .map(|i| (distance_m(probe, i.position()), i.id))
                .filter(|(d, _)| *d <= radius)
                .collect();
            expected.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            expected.truncate(limit);
            let got: Vec<(f64, i64)> = index
                .nearby(probe.lat, probe.lon, radius, keep, limit)
                .into_iter()
                .map(|(i, d)| (d, i.id))
                .collect();
            assert_eq!(got, expected, "radius {radius} limit {limit} {category:?}");
        }
    }

    #[test]
    fn nearby_copes_with_poles_and_the_antimeridian() {
        let mut index = IncidentIndex::new();
        let east = LatLon::new(10.0, 179.9999);
        let west = LatLon::new(10.0, -179.9999);
        index.upsert(incident(1, east)).unwrap();
        index.upsert(incident(2, west)).unwrap();
        let found = index.nearby(east.lat, east.lon, 100.0, all, 10);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!((found[1].1 - distance_m(east, west)).abs() < 1e-9);

        let pole = LatLon::new(90.0, 0.0);
        index
            .upsert(incident(3, LatLon::new(89.9995, 120.0)))
            .unwrap();
        index
            .upsert(incident(4, LatLon::new(89.9995, -60.0)))
            .unwrap();
        let found = index.nearby(pole.lat, pole.lon, 100.0, all, 10);
        assert_eq!(found.len(), 2);
        let found = index.nearby(89.9999, 179.0, 200.0, all, 10);
        assert_eq!(found.len(), 2);
        // Half the planet and beyond, odd longitudes: no panic, everything found.
        assert_eq!(index.nearby(0.0, 540.0, 3.0e7, all, 10).len(), 4);
        assert_eq!(index.nearby(-90.0, -180.0, 1.2e7, all, 10).len(), 2);
        assert_eq!(index.nearby(0.0, 0.0, f64::INFINITY, all, 10).len(), 4);
    }

    #[test]
    fn upsert_moves_and_updates() {
        let mut index = IncidentIndex::new();
        let a = RENNES;
        let b = destination(RENNES, 90.0, 5_000.0);
        assert_eq!(index.upsert(incident(7, a)).unwrap(), None);
        let previous = index.upsert(incident(7, b)).unwrap();
        assert_eq!(previous.map(|p| p.position()), Some(a));
        assert_eq!(index.len(), 1);
        assert!(index.nearby(a.lat, a.lon, 100.0, all, 10).is_empty());
        assert_eq!(index.nearby(b.lat, b.lon, 1.0, all, 10)[0].0.id, 7);
        let world = Bbox {
            min_lon: -180.0,
            min_lat: -90.0,
            max_lon: 180.0,
            max_lat: 90.0,
        };
        assert_eq!(total(&index.clusters(world, 5, None)), 1);
        assert!(index.clusters(bbox_around(a, 1000.0), 12, None).is_empty());

        // Same place, new status: updated in place.
        let updated = Incident {
            status: 3,
            ..incident(7, b)
        };
        index.upsert(updated).unwrap();
        assert_eq!(index.get(7), Some(updated));
        assert_eq!(
            index.clusters(bbox_around(b, 1000.0), 12, None),
            [MapFeature::Point(updated)]
        );

        // A move small enough to keep the f32 tree point still updates the aggregates.
        let nudged = Incident {
            lat: b.lat + 1e-12,
            ..updated
        };
        index.upsert(nudged).unwrap();
        assert_eq!(index.get(7), Some(nudged));
        assert_eq!(
            index.clusters(bbox_around(b, 1000.0), 12, None),
            [MapFeature::Point(nudged)]
        );
    }

    #[test]
    fn remove_forgets_everything() {
        let mut index = IncidentIndex::new();
        index.upsert(incident(1, RENNES)).unwrap();
        index
            .upsert(incident(2, destination(RENNES, 0.0, 30.0)))
            .unwrap();
        assert_eq!(index.remove(1).map(|i| i.id), Some(1));
        assert_eq!(index.remove(1), None);
        assert_eq!(index.get(1), None);
        assert_eq!(index.len(), 1);
        let found = index.nearby(RENNES.lat, RENNES.lon, 100.0, all, 10);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0.id, 2);
        index.remove(2);
        assert!(index.is_empty());
        assert!(index.grid.iter().all(HashMap::is_empty));
        assert!(index.clusters(CITY, 11, None).is_empty());
    }

    #[test]
    fn invalid_positions_are_refused_and_duplicates_resolved() {
        let mut index = IncidentIndex::new();
        let bad = Incident {
            lat: f64::NAN,
            ..incident(1, RENNES)
        };
        assert_eq!(index.upsert(bad), Err(InvalidPosition { id: 1 }));
        assert!(
            index
                .upsert(Incident {
                    lon: 181.0,
                    ..incident(1, RENNES)
                })
                .is_err()
        );
        assert!(index.is_empty());

        let moved = destination(RENNES, 45.0, 100.0);
        let (index, rejected) = IncidentIndex::bulk_load(vec![
            incident(1, RENNES),
            bad,
            incident(2, RENNES),
            incident(1, moved),
        ]);
        assert_eq!(rejected.len(), 1);
        assert_eq!(index.len(), 2);
        assert_eq!(index.get(1).map(|i| i.position()), Some(moved));
        assert_eq!(total(&index.clusters(CITY, 11, None)), 2);
    }

    #[test]
    fn empty_index_answers_nothing() {
        let index = IncidentIndex::default();
        assert!(index.is_empty());
        assert!(
            index
                .nearby(RENNES.lat, RENNES.lon, 500.0, all, 10)
                .is_empty()
        );
        for zoom in [0, 11, 17, 18, 30] {
            assert!(index.clusters(CITY, zoom, None).is_empty());
            assert!(index.clusters(CITY, zoom, Some(&all)).is_empty());
        }
        assert!(index.approx_memory_bytes() < 10_000);
        let mut index = index;
        assert_eq!(index.remove(3), None);
    }

    #[test]
    fn cluster_counts_sum_to_the_incidents_in_the_bbox() {
        let mut data = synthetic(30_000, 11);
        // Exact duplicates and a far-away one.
        data.extend((0..5).map(|k| incident(100_000 + k, RENNES)));
        data.push(incident(200_000, LatLon::new(-33.9, 151.2)));
        let (index, _) = IncidentIndex::bulk_load(data.clone());
        let mut rng = Rng(5);
        let mut boxes = vec![
            CITY,
            bbox_around(RENNES, 1_000.0),
            bbox_around(RENNES, 150.0),
            Bbox {
                min_lon: -180.0,
                min_lat: -90.0,
                max_lon: 180.0,
                max_lat: 90.0,
            },
            Bbox {
                min_lon: 170.0,
                min_lat: -60.0,
                max_lon: -170.0,
                max_lat: 60.0,
            },
        ];
        for _ in 0..40 {
            let centre = data[rng.below(data.len() as u64) as usize].position();
            boxes.push(bbox_around(centre, rng.range(50.0, 8_000.0)));
        }
        for bbox in &boxes {
            let expected = data.iter().filter(|i| inside(bbox, i)).count() as u64;
            let expected_category = data
                .iter()
                .filter(|i| inside(bbox, i) && i.category < 10)
                .count() as u64;
            for zoom in [0, 3, 8, 11, 13, 14, 15, 16, 17, 18, 20] {
                let grid = index.clusters(*bbox, zoom, None);
                let fly = index.clusters(*bbox, zoom, Some(&all));
                assert_eq!(total(&grid), expected, "{bbox:?} z{zoom}");
                assert!(grid.len() <= MAX_FEATURES);
                // Both paths define cells the same way, so they must agree exactly.
                assert_eq!(sorted(grid), sorted(fly), "{bbox:?} z{zoom}");
                let filtered = index.clusters(*bbox, zoom, Some(&|i: &Incident| i.category < 10));
                assert_eq!(total(&filtered), expected_category, "{bbox:?} z{zoom}");
            }
        }
    }

    #[test]
    fn cluster_position_is_the_mean_of_members() {
        let points = [
            destination(RENNES, 0.0, 20.0),
            destination(RENNES, 120.0, 25.0),
            destination(RENNES, 240.0, 30.0),
        ];
        let (index, _) = IncidentIndex::bulk_load(
            points
                .iter()
                .enumerate()
                .map(|(k, p)| incident(k as i64, *p))
                .collect(),
        );
        let features = index.clusters(CITY, 11, None);
        let [
            MapFeature::Cluster {
                count: 3, lat, lon, ..
            },
        ] = features[..]
        else {
            panic!("{features:?}");
        };
        let mean_lat = points.iter().map(|p| p.lat).sum::<f64>() / 3.0;
        let mean_lon = points.iter().map(|p| p.lon).sum::<f64>() / 3.0;
        assert!((lat - mean_lat).abs() < 1e-7 && (lon - mean_lon).abs() < 1e-7);
    }

    #[test]
    fn features_are_capped() {
        let mut rng = Rng(3);
        let mut data: Vec<Incident> = (0..60_000)
            .map(|i| {
                incident(
                    i,
                    LatLon::new(rng.range(-80.0, 80.0), rng.range(-180.0, 180.0)),
                )
            })
            .collect();
        data.extend((0..5_000).map(|i| {
            incident(
                100_000 + i,
                destination(RENNES, rng.range(0.0, 360.0), rng.range(0.0, 40.0)),
            )
        }));
        let (index, _) = IncidentIndex::bulk_load(data);
        let world = Bbox {
            min_lon: -180.0,
            min_lat: -85.0,
            max_lon: 180.0,
            max_lat: 85.0,
        };
        for zoom in [4, 8, 12, 16, 17, 18, 22, 255] {
            for filter in [None, Some(&all as &dyn Fn(&Incident) -> bool)] {
                let features = index.clusters(world, zoom, filter);
                assert!(
                    features.len() <= MAX_FEATURES,
                    "z{zoom}: {}",
                    features.len()
                );
                assert_eq!(total(&features), 65_000);
            }
        }
        // 5,000 incidents within 40 m: too many points even at zoom 19.
        let street = bbox_around(RENNES, 100.0);
        let features = index.clusters(street, 19, None);
        assert!(features.len() <= MAX_FEATURES);
        assert_eq!(total(&features), 5_000);
        assert!(features.iter().any(|f| matches!(
            f,
            MapFeature::Cluster {
                expansion_zoom: 20,
                ..
            }
        )));
    }

    #[test]
    fn expansion_zoom_is_where_the_cluster_splits() {
        for metres in [3.0, 40.0, 700.0, 20_000.0] {
            let a = destination(RENNES, 90.0, metres / 2.0);
            let b = destination(RENNES, 270.0, metres / 2.0);
            let (index, _) = IncidentIndex::bulk_load(vec![incident(1, a), incident(2, b)]);
            let view = bbox_around(RENNES, 60_000.0);
            for filter in [None, Some(&all as &dyn Fn(&Incident) -> bool)] {
                let features = index.clusters(view, 0, filter);
                let [
                    MapFeature::Cluster {
                        count: 2,
                        expansion_zoom,
                        ..
                    },
                ] = features[..]
                else {
                    panic!("{metres} m: {features:?}");
                };
                assert!((1..=POINTS_ZOOM).contains(&expansion_zoom));
                // Everything below the expansion zoom still shows one cluster, and from it on, two
                // features (the viewport is wide enough never to be coarsened).
                for zoom in 0..expansion_zoom {
                    let view = bbox_around(RENNES, metres.max(1_000.0));
                    assert_eq!(
                        index.clusters(view, zoom, filter).len(),
                        1,
                        "{metres} m z{zoom}"
                    );
                }
                let view = bbox_around(RENNES, metres * 2.0);
                let split = index.clusters(view, expansion_zoom, filter);
                assert_eq!(split.len(), 2, "{metres} m z{expansion_zoom}: {split:?}");
            }
        }
        // Two reports at the very same spot only separate as points at POINTS_ZOOM.
        let (index, _) = IncidentIndex::bulk_load(vec![incident(1, RENNES), incident(2, RENNES)]);
        let features = index.clusters(CITY, 11, None);
        assert!(matches!(
            features[..],
            [MapFeature::Cluster {
                count: 2,
                expansion_zoom: POINTS_ZOOM,
                ..
            }]
        ));
        let features = index.clusters(bbox_around(RENNES, 100.0), 17, None);
        assert!(matches!(
            features[..],
            [MapFeature::Cluster {
                count: 2,
                expansion_zoom: POINTS_ZOOM,
                ..
            }]
        ));
        assert_eq!(
            index
                .clusters(bbox_around(RENNES, 100.0), POINTS_ZOOM, None)
                .len(),
            2
        );
    }

    #[test]
    fn incremental_aggregates_match_a_fresh_bulk_load() {
        let data = synthetic(5_000, 21);
        let mut index = IncidentIndex::new();
        let mut rng = Rng(8);
        for i in &data {
            index.upsert(*i).unwrap();
        }
        let mut current: HashMap<i64, Incident> = data.iter().map(|i| (i.id, *i)).collect();
        for _ in 0..5_000 {
            let id = rng.below(6_000) as i64 + 1;
            if rng.unit() < 0.3 {
                assert_eq!(index.remove(id), current.remove(&id));
            } else {
                let moved = Incident {
                    status: rng.below(4) as u8,
                    ..incident(
                        id,
                        destination(RENNES, rng.range(0.0, 360.0), rng.range(0.0, 9_000.0)),
                    )
                };
                assert_eq!(index.upsert(moved).unwrap(), current.insert(id, moved));
            }
        }
        let (fresh, _) = IncidentIndex::bulk_load(current.values().copied().collect());
        assert_eq!(index.len(), fresh.len());
        assert_eq!(index.grid, fresh.grid);
        for i in current.values() {
            assert_eq!(index.get(i.id), Some(*i));
        }
    }

    #[test]
    fn a_million_incidents_fit_in_150_mb() {
        let (index, _) = IncidentIndex::bulk_load(synthetic(1_000_000, 42));
        let bytes = index.approx_memory_bytes();
        println!("estimate for 1M: {:.1} MB", bytes as f64 / 1e6);
        assert!(bytes < 150_000_000, "{bytes}");
    }
}
