//! `source-change` (diff): a component's certificate source or issuer changes.

use super::{declare_rule, Context};
use crate::finding::{Finding, Severity};

declare_rule! {
    /// What it detects (only in `certdrift diff`): between BASE and HEAD, a
    /// component's serving certificate changes source — static (in the
    /// repository) to cert-manager, one issuer to another, Puppet to
    /// cert-manager. One finding per cause (the changed line that decides
    /// the source), listing every affected component and their number: the
    /// blast radius. An error when the affected components' own files did
    /// not change in this diff (action at a distance), or when more
    /// components than `--max-blast-radius` are touched; a warning when the
    /// change is in the components' own files.
    ///
    /// Why it matters: on 2023-08-09 a one-line Hiera change,
    /// "deployment_server::general: Globally enable mesh.certmanager",
    /// switched every mesh-enabled release to a cert-manager certificate at
    /// its next deploy. The repository whose CI ran (Puppet) could not see
    /// the effect on the releases (deployment-charts); hours later a routine
    /// MediaWiki deploy served a certificate without the names clients used.
    ///
    /// Example: `operations-puppet/hieradata/role/common/deployment_server/kubernetes.yaml:332`
    /// sets `mesh.certmanager.enabled: true`; this flips 2 components
    /// (mw-api-ext, mw-api-int) from static to cert-manager
    /// ClusterIssuer/discovery.
    pub static RULE = {
        id: "source-change",
        severity: Severity::Error,
        summary: "(diff) a change flips components' certificate source or issuer",
        check: check,
    };
}

/// Produced by `diff`, which compares two inventories; a scan has nothing to compare.
fn check(_ctx: &Context<'_>) -> Vec<Finding> {
    Vec::new()
}
