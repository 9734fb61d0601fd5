//! Hiera v5 lookups (stand-in until the full engine lands).
#![allow(missing_docs, dead_code)]

use crate::read::source::FileSource;
use crate::read::yaml::{self, Document, NodeId};
use std::sync::Arc;

#[derive(Clone, Debug, PartialEq)]
pub struct Value {
    pub kind: ValueKind,
    pub origin: Origin,
}
#[derive(Clone, Debug, PartialEq)]
pub enum ValueKind {
    Null,
    Bool(bool),
    Number(String),
    String(String),
    Seq(Vec<Value>),
    Map(Vec<(String, Value)>),
}
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Origin {
    pub path: String,
    pub line: u32,
    pub column: u32,
}

impl Value {
    pub fn get(&self, key: &str) -> Option<&Value> {
        match &self.kind {
            ValueKind::Map(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            ValueKind::String(s) => Some(s),
            _ => None,
        }
    }
    pub fn is_truthy(&self) -> bool {
        match &self.kind {
            ValueKind::Bool(b) => *b,
            ValueKind::String(s) => s == "true" || s == "yes",
            ValueKind::Number(n) => n != "0",
            _ => false,
        }
    }
}

pub fn from_yaml(doc: &Document, node: NodeId, path: &str) -> Result<Value, String> {
    fn go(
        doc: &Document,
        node: NodeId,
        path: &str,
        budget: &mut usize,
        depth: usize,
    ) -> Result<Value, String> {
        if *budget == 0 || depth > 200 {
            return Err("value too large".into());
        }
        *budget -= 1;
        let node = doc.resolve(node);
        let n = doc.node(node);
        let origin = Origin {
            path: path.to_owned(),
            line: n.start.line,
            column: n.start.col,
        };
        let kind = match &n.kind {
            yaml::Kind::Scalar { value, style, .. } => {
                if doc.is_null(node) {
                    ValueKind::Null
                } else if *style == yaml::Style::Plain && (value == "true" || value == "false") {
                    ValueKind::Bool(value == "true")
                } else if *style == yaml::Style::Plain && value.parse::<f64>().is_ok() {
                    ValueKind::Number(value.clone())
                } else {
                    ValueKind::String(value.clone())
                }
            }
            yaml::Kind::Seq(items) => ValueKind::Seq(
                items
                    .iter()
                    .map(|&i| go(doc, i, path, budget, depth + 1))
                    .collect::<Result<_, _>>()?,
            ),
            yaml::Kind::Map(_) => ValueKind::Map(
                doc.entries(node)
                    .into_iter()
                    .map(|(k, v)| {
                        Ok((
                            doc.str(k).unwrap_or("?").to_owned(),
                            go(doc, v, path, budget, depth + 1)?,
                        ))
                    })
                    .collect::<Result<_, String>>()?,
            ),
            yaml::Kind::Alias(_) => ValueKind::Null,
        };
        Ok(Value { kind, origin })
    }
    let mut budget = 1_000_000;
    go(doc, node, path, &mut budget, 0)
}

#[derive(Clone, Debug, Default)]
pub struct Facts {
    pub map: Vec<(String, String)>,
}
impl Facts {
    pub fn set(&mut self, k: &str, v: &str) {
        self.map.push((k.into(), v.into()));
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Merge {
    First,
    Unique,
    Hash,
    Deep,
}
pub enum Builtin {
    YamlData,
    EyamlLookupKey,
    ExpandPath,
}
#[derive(Default)]
pub struct HieraOptions {
    pub map_paths: Vec<(String, String)>,
    pub functions: Vec<(String, Builtin)>,
}
pub struct Hiera;
pub struct Lookup {
    pub value: Option<Value>,
    pub notes: Vec<Note>,
}
pub struct Note {
    pub origin: Origin,
    pub message: String,
}
#[derive(Debug, thiserror::Error)]
#[error("{path}:{line}:{column}: {message}")]
pub struct HieraError {
    pub path: String,
    pub line: u32,
    pub column: u32,
    pub message: String,
}
impl Hiera {
    pub fn load(
        _files: Arc<dyn FileSource>,
        config: &str,
        _opts: HieraOptions,
    ) -> Result<Hiera, HieraError> {
        Err(HieraError {
            path: config.into(),
            line: 1,
            column: 1,
            message: "not implemented".into(),
        })
    }
    pub fn lookup(&self, _key: &str, _facts: &Facts, _merge: Option<Merge>) -> Lookup {
        Lookup {
            value: None,
            notes: vec![],
        }
    }
}
