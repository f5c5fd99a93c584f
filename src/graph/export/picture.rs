//! The DOT and Mermaid renderings of a [`View`] (see [`super::layout`] for what is drawn):
//! nesting instead of `contains` edges (clusters zone → account → region), delivery flowing left
//! to right, shape and colour by kind, shared resources and resources with findings outlined
//! (the checks named in the tooltip), cross-account and cross-zone edges drawn distinctly, a
//! legend, and a note saying what the size cap merged. Every name goes through the DOT or
//! Mermaid sink function of [`crate::escape`].

use super::layout::{Crossing, LEGEND, View, legend_class, tooltip, tree};
use crate::escape::{dot_label, mermaid_label};
use crate::graph::NodeKind;
use std::io::{self, Write};

/// Shape and fill of a kind (DOT); Mermaid uses the fill as its class.
fn style(kind: NodeKind) -> (&'static str, &'static str) {
    match kind {
        NodeKind::EventBus => ("cds", "#fbefff"),
        NodeKind::Rule | NodeKind::Subscriber => ("diamond", "#ddf4ff"),
        NodeKind::Function => ("box", "#fff8c5"),
        NodeKind::Role | NodeKind::User | NodeKind::Group => ("hexagon", "#eeeeee"),
        NodeKind::AgentSpace => ("doubleoctagon", "#dafbe1"),
        NodeKind::External => ("box", "#ffffff"),
        NodeKind::Account => ("folder", "#ffffff"),
        NodeKind::Resource(_) => ("cylinder", "#f6f8fa"),
    }
}

/// Graphviz DOT.
pub fn dot(view: &View, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "digraph topology {{")?;
    writeln!(out, "  rankdir=LR;")?;
    writeln!(out, "  newrank=true;")?;
    writeln!(out, "  node [fontsize=10, style=\"filled\"];")?;
    let mut c = 0;
    for (zone, accounts) in tree(view) {
        let zone_open = !zone.is_empty();
        if zone_open {
            writeln!(out, "  subgraph cluster_{c} {{")?;
            writeln!(out, "    label=\"{}\";", dot_label(&zone))?;
            c += 1;
        }
        for (account, regions) in accounts {
            let account_open = !account.is_empty();
            if account_open {
                writeln!(out, "    subgraph cluster_{c} {{")?;
                writeln!(out, "      label=\"{}\";", dot_label(&account))?;
                writeln!(out, "      style=\"rounded\";")?;
                c += 1;
            }
            for (region, nodes) in regions {
                let region_open = !region.is_empty();
                if region_open {
                    writeln!(out, "      subgraph cluster_{c} {{")?;
                    writeln!(out, "        label=\"{}\";", dot_label(&region))?;
                    writeln!(out, "        style=\"dashed\";")?;
                    c += 1;
                }
                for i in nodes {
                    dot_node(view, i, out)?;
                }
                if region_open {
                    writeln!(out, "      }}")?;
                }
            }
            if account_open {
                writeln!(out, "    }}")?;
            }
        }
        if zone_open {
            writeln!(out, "  }}")?;
        }
    }
    for (a, b, kind, crossing) in &view.edges {
        let style = match crossing {
            Crossing::Same => "color=\"#57606a\"",
            Crossing::Account => "color=\"#0969da\", style=dashed",
            Crossing::Zone => "color=\"#cf222e\", style=bold, penwidth=2",
        };
        writeln!(out, "  n{a} -> n{b} [{style}, label=\"{}\"];", kind.as_str())?;
    }
    writeln!(out, "  subgraph cluster_legend {{")?;
    writeln!(out, "    label=\"legend\";")?;
    for (i, (name, kind)) in LEGEND.iter().enumerate() {
        let (shape, fill) = style(*kind);
        writeln!(
            out,
            "    legend{i} [shape={shape}, fillcolor=\"{fill}\", label=\"{name}\"];"
        )?;
    }
    writeln!(
        out,
        "    legend_shared [shape=box, fillcolor=\"#ffffff\", color=\"#0969da\", penwidth=3, label=\"shared resource\"];"
    )?;
    writeln!(
        out,
        "    legend_finding [shape=box, fillcolor=\"#ffffff\", color=\"#cf222e\", penwidth=3, label=\"has findings\"];"
    )?;
    for end in ["a", "b", "c", "d"] {
        writeln!(out, "    legend_{end} [shape=point, label=\"\"];")?;
    }
    writeln!(
        out,
        "    legend_a -> legend_b [color=\"#0969da\", style=dashed, label=\"cross-account\"];"
    )?;
    writeln!(
        out,
        "    legend_c -> legend_d [color=\"#cf222e\", style=bold, label=\"cross-zone\"];"
    )?;
    if !view.merged.is_empty() {
        writeln!(
            out,
            "    legend_merged [shape=note, fillcolor=\"#fff8c5\", label=\"{}\"];",
            dot_label(&view.merged.join("\n"))
        )?;
    }
    writeln!(out, "  }}")?;
    writeln!(out, "}}")
}

fn dot_node(view: &View, i: usize, out: &mut dyn Write) -> io::Result<()> {
    let Some(n) = view.nodes.get(i) else { return Ok(()) };
    let (shape, fill) = style(n.kind);
    let outline = if !n.checks.is_empty() {
        ", color=\"#cf222e\", penwidth=3"
    } else if n.shared {
        ", color=\"#0969da\", penwidth=3"
    } else {
        ""
    };
    let peripheries = if n.count > 1 { ", peripheries=2" } else { "" };
    writeln!(
        out,
        "        n{i} [shape={shape}, fillcolor=\"{fill}\"{outline}{peripheries}, tooltip=\"{}\", label=\"{}\"];",
        dot_label(&tooltip(n)),
        dot_label(&n.label)
    )
}

/// Mermaid flowchart.
pub fn mermaid(view: &View, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "flowchart LR")?;
    let mut c = 0;
    for (zone, accounts) in tree(view) {
        let zone_open = !zone.is_empty();
        if zone_open {
            writeln!(out, "  subgraph c{c} [\"{}\"]", mermaid_label(&zone))?;
            c += 1;
        }
        for (account, regions) in accounts {
            let account_open = !account.is_empty();
            if account_open {
                writeln!(out, "  subgraph c{c} [\"{}\"]", mermaid_label(&account))?;
                c += 1;
            }
            for (region, nodes) in regions {
                let region_open = !region.is_empty();
                if region_open {
                    writeln!(out, "  subgraph c{c} [\"{}\"]", mermaid_label(&region))?;
                    c += 1;
                }
                for i in nodes {
                    if let Some(n) = view.nodes.get(i) {
                        writeln!(out, "  n{i}[\"{}\"]", mermaid_label(&n.label))?;
                    }
                }
                if region_open {
                    writeln!(out, "  end")?;
                }
            }
            if account_open {
                writeln!(out, "  end")?;
            }
        }
        if zone_open {
            writeln!(out, "  end")?;
        }
    }
    for (a, b, kind, _) in &view.edges {
        writeln!(out, "  n{a} -->|{}| n{b}", kind.as_str())?;
    }
    if !view.merged.is_empty() {
        writeln!(out, "  merged[\"{}\"]", mermaid_label(&view.merged.join("; ")))?;
    }
    mermaid_styles(view, out)
}

fn mermaid_styles(view: &View, out: &mut dyn Write) -> io::Result<()> {
    for (name, kind) in LEGEND {
        writeln!(out, "  classDef {} fill:{}", name, style(*kind).1)?;
    }
    writeln!(out, "  classDef shared stroke:#0969da,stroke-width:3px")?;
    writeln!(out, "  classDef finding stroke:#cf222e,stroke-width:3px")?;
    for (i, n) in view.nodes.iter().enumerate() {
        writeln!(out, "  class n{i} {}", legend_class(n.kind))?;
        if !n.checks.is_empty() {
            writeln!(out, "  class n{i} finding")?;
        } else if n.shared {
            writeln!(out, "  class n{i} shared")?;
        }
    }
    for (i, (_, _, _, crossing)) in view.edges.iter().enumerate() {
        match crossing {
            Crossing::Same => {}
            Crossing::Account => writeln!(out, "  linkStyle {i} stroke:#0969da,stroke-dasharray:6 3")?,
            Crossing::Zone => writeln!(out, "  linkStyle {i} stroke:#cf222e,stroke-width:3px")?,
        }
    }
    Ok(())
}
