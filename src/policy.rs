//! Policies: declarative knowledge of what flags and keys mean.
//!
//! In: `policies/kubernetes.yaml` (embedded in the binary). Out: a
//! [`Policy`] the graph builder reads — roles with the flags of each and
//! what they are for, flag groups that must share a CA, and the CA limit per
//! scope. Format knowledge lives here as data, not as branches in rules.
//! Parsed with the same positioned YAML reader as user files, so an invalid
//! policy is an error with its file:line.

use crate::read::yaml::{self, Document, NodeId};
use std::collections::BTreeMap;

/// The built-in Kubernetes policy.
pub const KUBERNETES: &str = include_str!("../policies/kubernetes.yaml");

/// What a flag's file is for.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Action {
    /// The serving certificate on a channel.
    Serve(String),
    /// A directory whose `tls.crt` is served on a channel.
    ServeDir(String),
    /// The client certificate for a channel.
    Client(String),
    /// CAs trusted for servers on a channel.
    TrustServer(String),
    /// CAs trusted for clients on a channel.
    TrustClient(String),
}

/// One flag of a role.
#[derive(Clone, Debug, Default)]
pub struct FlagSpec {
    /// What the file is for (a flag can be several things).
    pub actions: Vec<Action>,
    /// The flag holding the peers' URLs, for trust-server.
    pub url: Option<String>,
}

/// A role: which containers, which flags.
#[derive(Clone, Debug, Default)]
pub struct Role {
    /// The role's name (`etcd`); `*` for the fallback.
    pub name: String,
    /// Names that identify its containers.
    pub matches: Vec<String>,
    /// `ETCD_`: environment variables that stand for flags.
    pub env_prefix: Option<String>,
    /// Flags by name (`--cert-file`).
    pub flags: BTreeMap<String, FlagSpec>,
}

/// Everything a policy says.
#[derive(Clone, Debug, Default)]
pub struct Policy {
    /// Roles in file order; `*` last.
    pub roles: Vec<Role>,
    /// (role, flags) that must trust the same CAs.
    pub same_ca: Vec<(String, Vec<String>)>,
    /// Most distinct self-signed roots trusted in one scope.
    pub max_cas: Option<usize>,
}

/// An invalid policy: where and what.
#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct PolicyError {
    /// The policy file.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
    /// What is wrong.
    pub message: String,
}

struct P<'a> {
    doc: &'a Document,
    file: &'a str,
}

impl P<'_> {
    fn err(&self, node: NodeId, message: impl Into<String>) -> PolicyError {
        let n = self.doc.node(node);
        PolicyError {
            file: self.file.to_owned(),
            line: n.start.line,
            column: n.start.col,
            message: message.into(),
        }
    }

    fn str(&self, node: NodeId, what: &str) -> Result<String, PolicyError> {
        self.doc
            .str(node)
            .map(str::to_owned)
            .ok_or_else(|| self.err(node, format!("{what} must be a string")))
    }

    fn map(&self, node: NodeId, what: &str) -> Result<Vec<(String, NodeId, NodeId)>, PolicyError> {
        let node = self.doc.resolve(node);
        if !matches!(self.doc.node(node).kind, yaml::Kind::Map(_)) {
            return Err(self.err(node, format!("{what} must be a mapping")));
        }
        self.doc
            .entries(node)
            .into_iter()
            .map(|(k, v)| Ok((self.str(k, "a key")?, k, v)))
            .collect()
    }

    fn list(&self, node: NodeId, what: &str) -> Result<Vec<String>, PolicyError> {
        let node = self.doc.resolve(node);
        if !matches!(self.doc.node(node).kind, yaml::Kind::Seq(_)) {
            return Err(self.err(node, format!("{what} must be a list")));
        }
        self.doc
            .seq(node)
            .iter()
            .map(|&i| self.str(i, what))
            .collect()
    }
}

/// Parses a policy file's text.
pub fn parse(file: &str, text: &str) -> Result<Policy, PolicyError> {
    let stream = yaml::parse(text, &yaml::Limits::default());
    if let Some(e) = stream.error {
        return Err(PolicyError {
            file: file.to_owned(),
            line: e.mark.line,
            column: e.mark.col,
            message: e.message,
        });
    }
    let mut policy = Policy::default();
    let Some(doc) = stream.docs.first() else {
        return Ok(policy);
    };
    let Some(root) = doc.root() else {
        return Ok(policy);
    };
    let p = P { doc, file };
    for (key, k, v) in p.map(root, "a policy")? {
        match key.as_str() {
            "roles" => {
                for (name, _, rv) in p.map(v, "roles")? {
                    policy.roles.push(role(&p, name, rv)?);
                }
            }
            "same_ca" => {
                for item in doc.seq(doc.resolve(v)) {
                    let words = p.list(*item, "a same_ca entry")?;
                    let Some((role, flags)) = words.split_first() else {
                        return Err(p.err(*item, "a same_ca entry names a role and its flags"));
                    };
                    policy.same_ca.push((role.clone(), flags.to_vec()));
                }
            }
            "max_cas" => {
                if !doc.is_null(v) {
                    let n = p.str(v, "max_cas")?;
                    policy.max_cas = Some(
                        n.parse()
                            .map_err(|_| p.err(v, "max_cas must be a whole number"))?,
                    );
                }
            }
            other => {
                return Err(p.err(
                    k,
                    format!("unknown key {other:?} (expected roles, same_ca, max_cas)"),
                ))
            }
        }
    }
    // The fallback role is tried last.
    policy.roles.sort_by_key(|r| r.name == "*");
    Ok(policy)
}

fn role(p: &P<'_>, name: String, node: NodeId) -> Result<Role, PolicyError> {
    let mut role = Role {
        name,
        ..Role::default()
    };
    for (key, k, v) in p.map(node, "a role")? {
        match key.as_str() {
            "match" => role.matches = p.list(v, "match")?,
            "env_prefix" => role.env_prefix = Some(p.str(v, "env_prefix")?),
            "flags" => {
                for (flag, _, fv) in p.map(v, "flags")? {
                    let mut spec = FlagSpec::default();
                    for (what, wk, wv) in p.map(fv, "a flag")? {
                        let channel = || p.str(wv, &what);
                        match what.as_str() {
                            "serve" => spec.actions.push(Action::Serve(channel()?)),
                            "serve-dir" => spec.actions.push(Action::ServeDir(channel()?)),
                            "client" => spec.actions.push(Action::Client(channel()?)),
                            "trust-server" => spec.actions.push(Action::TrustServer(channel()?)),
                            "trust-client" => spec.actions.push(Action::TrustClient(channel()?)),
                            "url" => spec.url = Some(channel()?),
                            other => {
                                return Err(p.err(
                                    wk,
                                    format!("unknown flag meaning {other:?} (expected serve, serve-dir, client, trust-server, trust-client, url)"),
                                ))
                            }
                        }
                    }
                    role.flags.insert(flag, spec);
                }
            }
            other => {
                return Err(p.err(
                    k,
                    format!("unknown role key {other:?} (expected match, env_prefix, flags)"),
                ))
            }
        }
    }
    Ok(role)
}

impl Policy {
    /// Adds a user policy on top: a role of the same name replaces the
    /// built-in one, `same_ca` entries add up, `max_cas` overrides.
    pub fn merge(&mut self, other: Policy) {
        for role in other.roles {
            match self.roles.iter_mut().find(|r| r.name == role.name) {
                Some(r) => *r = role,
                None => self.roles.push(role),
            }
        }
        self.roles.sort_by_key(|r| r.name == "*");
        self.same_ca.extend(other.same_ca);
        if other.max_cas.is_some() {
            self.max_cas = other.max_cas;
        }
    }
}

/// The built-in policy.
pub fn builtin() -> Policy {
    // The embedded file is tested below; a broken build-in is a bug, not input.
    parse("policies/kubernetes.yaml", KUBERNETES).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_policy_parses() {
        let p = parse("policies/kubernetes.yaml", KUBERNETES).unwrap();
        let etcd = p.roles.iter().find(|r| r.name == "etcd").unwrap();
        assert_eq!(etcd.env_prefix.as_deref(), Some("ETCD_"));
        assert_eq!(
            etcd.flags["--peer-cert-file"].actions,
            [
                Action::Serve("etcd-peer".into()),
                Action::Client("etcd-peer".into())
            ]
        );
        let api = p.roles.iter().find(|r| r.name == "kube-apiserver").unwrap();
        assert_eq!(
            api.flags["--etcd-cafile"].url.as_deref(),
            Some("--etcd-servers")
        );
        assert_eq!(p.roles.last().unwrap().name, "*");
        assert_eq!(p.same_ca.len(), 1);
    }

    #[test]
    fn errors_point_at_the_line() {
        let e = parse(
            "p.yaml",
            "roles:\n  x:\n    flags:\n      --a: {serves: y}\n",
        )
        .unwrap_err();
        assert_eq!((e.line, e.column), (4, 13));
        assert!(e.message.contains("serves"), "{e}");
        let e = parse("p.yaml", "rules: []\n").unwrap_err();
        assert_eq!(e.line, 1);
    }
}
