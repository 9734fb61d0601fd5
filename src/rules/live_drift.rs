//! `live-drift` (probe): a live endpoint serves another certificate than the repository configures.

use super::{declare_rule, Context};
use crate::finding::{Finding, Severity};

declare_rule! {
    /// What it detects (only in `certdrift probe`): the endpoint of a
    /// component — an address the repository gives for it (`--etcd-servers`,
    /// `--advertise-client-urls`, a webhook's `clientConfig`, a kubeconfig
    /// `server`, a policy `reached_as` name with a port) or one named with
    /// `--target COMPONENT=HOST:PORT` — serves a leaf certificate that is
    /// not the one the repository configures for it (a static certificate:
    /// another fingerprint), or, for a cert-manager source whose `ca` issuer
    /// is in the repository, one that issuer did not issue. The message
    /// says whether the live and the configured certificate share an
    /// issuer (a renewal not committed) or not (another CA). A note, not an
    /// error, when the repository has no component of that name (nothing to
    /// compare) or declares it more than once.
    ///
    /// Why it matters: the repository is what the next deploy or restart
    /// loads. When it differs from what runs, either the running service is
    /// not what was reviewed, or the next restart changes its certificate —
    /// and the trust checks of `scan` answered for a certificate no client
    /// sees today.
    ///
    /// Example: `certdrift probe --target kube-system/etcd=10.64.0.5:2379`
    /// reports that etcd serves `CN=tools-k8s-etcd-1 (sha256:9f2c…)`,
    /// issued by `CN=Puppet CA: old`, while `control-plane.yaml` configures
    /// `--cert-file` from Secret `kube-system/etcd-pki`, issued by
    /// `CN=etcd CA`.
    pub static RULE = {
        id: "live-drift",
        severity: Severity::Error,
        summary: "(probe) a live endpoint serves another certificate than the repository",
        check: check,
    };
}

/// Produced by `probe`, which dials the endpoints; a scan has no live chain.
fn check(_ctx: &Context<'_>) -> Vec<Finding> {
    Vec::new()
}
