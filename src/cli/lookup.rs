//! `certdrift lookup`: a Hiera key looked up as Puppet does.

use super::args::MergeArg;
use super::output::print;
use super::settings::{
    load_config, load_facts, load_policy, parse_facts, parse_map_paths, show_secret_values,
};
use anyhow::{Context as _, Result};
use certdrift::read::source::DirSource;
use clap::Args;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LookupFormat {
    Text,
    Json,
}

/// Exit codes: 0 found, 1 not found, 2 the lookup failed (as Puppet's would: an unreadable
/// data file on the way, a merge of the wrong types) or the command did.
#[derive(Args)]
pub struct Lookup {
    /// The key, e.g. `profile::kubernetes::deployment_server::general`.
    key: String,
    /// The repository root (default: the current directory).
    path: Option<PathBuf>,
    /// The hiera.yaml, relative to the root (default: the policy's `hiera.config`, else `hiera.yaml`).
    #[arg(long, value_name = "FILE")]
    hiera_config: Option<String>,
    /// Absolute datadirs (host paths) and where they live in the repository, HOST=REPO (repeatable).
    #[arg(long, value_name = "HOST=REPO")]
    map_path: Vec<String>,
    /// A fact, KEY=VALUE (dotted keys for nested facts; repeatable).
    #[arg(long, value_name = "KEY=VALUE")]
    fact: Vec<String>,
    /// Facts from a YAML or JSON file.
    #[arg(long, value_name = "FILE")]
    facts: Option<PathBuf>,
    /// Use the facts of a node named in the policy's `hiera.nodes`.
    #[arg(long)]
    node: Option<String>,
    /// Merge behaviour (default: lookup_options in the data, else first).
    #[arg(long, value_enum)]
    merge: Option<MergeArg>,
    /// Show every hierarchy level tried and where the value was set.
    #[arg(long)]
    explain: bool,
    /// `text` (YAML with origins), or `json`: the value alone, as `puppet lookup --render-as json`.
    #[arg(long, value_enum, default_value = "text")]
    format: LookupFormat,
    /// Policy files (for `hiera:` settings and nodes).
    #[arg(long, value_name = "FILE")]
    policy: Vec<PathBuf>,
}

impl Lookup {
    pub fn run(self, config: Option<&Path>) -> Result<ExitCode> {
        let Lookup {
            key,
            path,
            hiera_config,
            map_path,
            fact,
            facts,
            node,
            merge,
            explain,
            format,
            policy,
        } = self;
        use certdrift::extract::hiera::{Hiera, HieraOptions, Merge};
        let cfg = load_config(config)?;
        let root = path.unwrap_or_else(|| PathBuf::from("."));
        let pol = load_policy(Some(&root), &cfg, &policy)?;
        let config = hiera_config
            .or_else(|| pol.hiera.config.clone())
            .unwrap_or_else(|| "hiera.yaml".to_owned());
        let mut all_facts = load_facts(&cfg, facts.as_deref())?;
        if let Some(n) = &node {
            let list =
                pol.hiera.nodes.get(n).with_context(|| {
                    format!("--node {n}: no such node in the policy's hiera.nodes")
                })?;
            for (k, v) in list {
                all_facts.set(k, v);
            }
        }
        let all_facts = parse_facts(all_facts, &fact)?;
        let options = HieraOptions {
            map_paths: pol
                .hiera
                .map_paths
                .iter()
                .cloned()
                .chain(parse_map_paths(&map_path)?)
                .chain(cfg.settings.map_paths.iter().cloned())
                .collect(),
            ..HieraOptions::default()
        };
        let h = Hiera::load(Arc::new(DirSource::new(root)), &config, options)?;
        let merge = merge.map(|m| match m {
            MergeArg::First => Merge::First,
            MergeArg::Unique => Merge::Unique,
            MergeArg::Hash => Merge::Hash,
            MergeArg::Deep => Merge::Deep,
        });
        let l = h.lookup(&key, &all_facts, merge);
        if format == LookupFormat::Json {
            if let Some(text) = certdrift::report::lookup::render_json(&l)
                .map_err(|e| anyhow::anyhow!("lookup of {key}: {e}"))?
            {
                print(&format!("{text}\n"))?;
            }
        } else {
            print(&certdrift::report::lookup::render_lookup(
                &key,
                &l,
                explain,
                &show_secret_values,
            ))?;
        }
        if let Some(e) = &l.error {
            anyhow::bail!("lookup of {key} failed: {}: {}", e.origin, e.message);
        }
        Ok(if l.value.is_some() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        })
    }
}
