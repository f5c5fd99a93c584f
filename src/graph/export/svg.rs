//! Geometry of the SVG drawing of a [`View`] (the HTML report draws it with its template, which
//! escapes every text for XML/HTML): frames for zone → account → region like DOT's clusters,
//! nodes in columns by kind inside their region (delivery flows left to right), edges as lines
//! marked by crossing, a legend and the size cap's notes on top. Positions follow only from the
//! view's sorted order, so the same view always gives the same picture.
//!
//! Blocks nest and stack: a region block holds its nodes in the drawing's columns (one per kind
//! layer present, at the same x everywhere, so the flow reads left to right across accounts
//! and zones); an account block stacks its regions, a zone block its accounts; zones stack below
//! the legend. A level with no name (a node without region or account) takes its place without
//! a frame.

use super::layout::{Crossing, LEGEND, View, layer, legend_class, tooltip, tree};
use std::collections::BTreeMap;

pub const NODE_W: u32 = 230;
pub const NODE_H: u32 = 26;
const GAP_X: u32 = 50;
const GAP_Y: u32 = 10;
const PAD: u32 = 10;
const TITLE: u32 = 22;
const MARGIN: u32 = 10;
const LEGEND_W: u32 = 170;
const LINE_H: u32 = 16;
/// Labels longer than this many characters are cut (the tooltip keeps the whole label).
const LABEL_MAX: usize = 34;

/// A node box.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SvgNode {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
    pub label: String,
    /// The whole label and notes, shown as the tooltip.
    pub tooltip: String,
    /// CSS class: the kind's legend class, plus `shared` / `finding` / `merged`.
    pub class: String,
}

/// A line between two node boxes (right middle of one to left middle of the other).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SvgEdge {
    pub x1: u32,
    pub y1: u32,
    pub x2: u32,
    pub y2: u32,
    /// `same`, `cross-account` or `cross-zone`.
    pub class: &'static str,
    /// The relation, shown as the tooltip.
    pub title: &'static str,
}

/// A cluster frame with its title.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SvgFrame {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
    pub label: String,
    /// `zone`, `account` or `region`.
    pub class: &'static str,
}

/// A line of text (legend labels and the size cap's notes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SvgText {
    pub x: u32,
    pub y: u32,
    pub text: String,
}

/// A laid-out drawing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Svg {
    pub width: u32,
    pub height: u32,
    /// Outer frames first, so inner ones are drawn over them.
    pub frames: Vec<SvgFrame>,
    pub nodes: Vec<SvgNode>,
    pub edges: Vec<SvgEdge>,
    /// Legend boxes (one per kind, then shared and finding outlines).
    pub legend: Vec<SvgNode>,
    /// Legend line samples (cross-account, cross-zone).
    pub legend_lines: Vec<SvgEdge>,
    /// Legend line labels, then the notes of what was merged.
    pub texts: Vec<SvgText>,
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

fn n32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX / 4)
}

/// A block's size and what it holds, relative to its top left corner.
#[derive(Default)]
struct Block {
    w: u32,
    h: u32,
    frames: Vec<SvgFrame>,
    nodes: Vec<(usize, u32, u32)>,
}

impl Block {
    /// Adds `inner` at (dx, dy).
    fn put(&mut self, inner: Block, dx: u32, dy: u32) {
        self.frames.extend(inner.frames.into_iter().map(|f| SvgFrame {
            x: f.x + dx,
            y: f.y + dy,
            ..f
        }));
        self.nodes
            .extend(inner.nodes.into_iter().map(|(i, x, y)| (i, x + dx, y + dy)));
    }

    /// Frames the block when it has a name (outer frames first).
    fn framed(mut self, label: &str, class: &'static str) -> Block {
        if !label.is_empty() {
            self.frames.insert(
                0,
                SvgFrame {
                    x: 0,
                    y: 0,
                    w: self.w,
                    h: self.h,
                    label: label.to_string(),
                    class,
                },
            );
        }
        self
    }
}

/// A region's nodes in the drawing's columns (`cols`: the kind layers present anywhere, so a
/// column has the same x in every region and the flow reads left to right across accounts).
fn region_block(view: &View, nodes: &[usize], cols: &[usize]) -> Block {
    let mut columns: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for &i in nodes {
        if let Some(n) = view.nodes.get(i) {
            columns.entry(layer(n.kind)).or_default().push(i);
        }
    }
    let mut b = Block::default();
    let rows = columns.values().map(Vec::len).max().unwrap_or(0);
    for (l, members) in &columns {
        let col = cols.iter().position(|c| c == l).unwrap_or(0);
        let x = PAD + n32(col) * (NODE_W + GAP_X);
        for (row, &i) in members.iter().enumerate() {
            b.nodes.push((i, x, TITLE + n32(row) * (NODE_H + GAP_Y)));
        }
    }
    let cols = n32(cols.len());
    b.w = 2 * PAD + cols * NODE_W + cols.saturating_sub(1) * GAP_X;
    b.h = TITLE + n32(rows) * (NODE_H + GAP_Y) + PAD;
    b
}

/// Children stacked inside a titled block; blocks at the same depth get the same width, so
/// frames line up and the columns inside them too.
fn stack(children: Vec<Block>) -> Block {
    let mut b = Block::default();
    let mut y = TITLE;
    for c in children {
        let (w, h) = (c.w, c.h);
        b.put(c, PAD, y);
        y += h + PAD;
        b.h = b.h.max(y);
        b.w = b.w.max(w + 2 * PAD);
    }
    b
}

/// Sets the width of every outermost frame of `b` (the block's own frame) to the block's width.
fn widen(mut b: Block, w: u32) -> Block {
    b.w = b.w.max(w);
    if let Some(f) = b.frames.first_mut().filter(|f| f.x == 0 && f.y == 0) {
        f.w = b.w;
    }
    b
}

/// The legend (kinds, outlines, crossings) and the merge notes, from `top`; returns the height.
fn legend(svg: &mut Svg, view: &View) -> u32 {
    let mut x = MARGIN;
    let y = MARGIN;
    let outlines = [
        ("shared resource", "external shared"),
        ("has findings", "external finding"),
    ];
    let kinds = LEGEND
        .iter()
        .map(|(name, kind)| (*name, legend_class(*kind).to_string()));
    for (name, class) in kinds.chain(outlines.iter().map(|(n, c)| (*n, (*c).to_string()))) {
        svg.legend.push(SvgNode {
            x,
            y,
            w: LEGEND_W - PAD,
            h: NODE_H,
            label: name.to_string(),
            tooltip: format!("legend: {name}"),
            class,
        });
        x += LEGEND_W;
    }
    let y2 = y + NODE_H + PAD + LINE_H / 2;
    for (i, (class, name)) in [
        ("cross-account", "cross-account edge"),
        ("cross-zone", "cross-zone edge"),
    ]
    .into_iter()
    .enumerate()
    {
        let x0 = MARGIN + n32(i) * 2 * LEGEND_W;
        svg.legend_lines.push(SvgEdge {
            x1: x0,
            y1: y2,
            x2: x0 + 60,
            y2,
            class,
            title: name,
        });
        svg.texts.push(SvgText {
            x: x0 + 70,
            y: y2 + 4,
            text: name.to_string(),
        });
    }
    let mut bottom = y2 + LINE_H;
    for note in &view.merged {
        bottom += LINE_H;
        svg.texts.push(SvgText {
            x: MARGIN,
            y: bottom,
            text: format!("Merged to stay readable: {note}"),
        });
    }
    svg.width = svg.width.max(x + MARGIN);
    bottom + PAD
}

/// Lays out `view`.
pub fn layout(view: &View) -> Svg {
    let mut svg = Svg::default();
    let top = legend(&mut svg, view);
    let cols: Vec<usize> = view
        .nodes
        .iter()
        .map(|n| layer(n.kind))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let region_w = region_block(view, &[], &cols).w;
    let mut zones = Vec::new();
    for (zone, accounts) in tree(view) {
        let mut account_blocks = Vec::new();
        for (account, regions) in accounts {
            let region_blocks: Vec<Block> = regions
                .iter()
                .map(|(region, nodes)| region_block(view, nodes, &cols).framed(region, "region"))
                .collect();
            account_blocks.push(widen(stack(region_blocks), region_w + 2 * PAD).framed(&account, "account"));
        }
        zones.push(widen(stack(account_blocks), region_w + 4 * PAD).framed(&zone, "zone"));
    }
    let all = stack(zones);
    let (w, h) = (all.w, all.h);
    let mut placed: BTreeMap<usize, (u32, u32)> = BTreeMap::new();
    for (i, x, y) in &all.nodes {
        placed.insert(*i, (x + MARGIN - PAD, y + top - TITLE));
    }
    svg.frames = all
        .frames
        .into_iter()
        .map(|f| SvgFrame {
            x: f.x + MARGIN - PAD,
            y: f.y + top - TITLE,
            ..f
        })
        .collect();
    for (&i, &(x, y)) in &placed {
        let Some(n) = view.nodes.get(i) else { continue };
        let mut class = legend_class(n.kind).to_string();
        if n.shared {
            class.push_str(" shared");
        }
        if !n.checks.is_empty() {
            class.push_str(" finding");
        }
        if n.count > 1 {
            class.push_str(" merged");
        }
        svg.nodes.push(SvgNode {
            x,
            y,
            w: NODE_W,
            h: NODE_H,
            label: truncate(&n.label, LABEL_MAX),
            tooltip: tooltip(n),
            class,
        });
    }
    svg.edges = edges(view, &placed);
    svg.width = svg.width.max(w + 2 * MARGIN);
    svg.height = (top - TITLE + h).max(top) + MARGIN;
    svg
}

fn edges(view: &View, placed: &BTreeMap<usize, (u32, u32)>) -> Vec<SvgEdge> {
    let mut out = Vec::new();
    for (a, b, kind, crossing) in &view.edges {
        let (Some(&(xa, ya)), Some(&(xb, yb))) = (placed.get(a), placed.get(b)) else {
            continue;
        };
        let (x1, x2) = if xa + NODE_W <= xb {
            (xa + NODE_W, xb)
        } else if xb + NODE_W <= xa {
            (xa, xb + NODE_W)
        } else {
            (xa + NODE_W / 2, xb + NODE_W / 2)
        };
        out.push(SvgEdge {
            x1,
            y1: ya + NODE_H / 2,
            x2,
            y2: yb + NODE_H / 2,
            class: match crossing {
                Crossing::Same => "same",
                Crossing::Account => "cross-account",
                Crossing::Zone => "cross-zone",
            },
            title: kind.as_str(),
        });
    }
    out
}
