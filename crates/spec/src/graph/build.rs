//! The builder the family modules add their resources to, in plan order.

use crate::model::{Role, Spec};

use super::{Kind, Payload, Resource, ResourceId};

pub(super) struct Builder<'a> {
    pub(super) spec: &'a Spec,
    pub(super) out: Vec<Resource>,
}

/// One resource before it is added: id, kind, name; dependencies, settings and payload are
/// set with the methods below.
pub(super) struct Node {
    resource: Resource,
}

impl Node {
    pub(super) fn after(mut self, deps: impl IntoIterator<Item = ResourceId>) -> Self {
        self.resource.depends_on.extend(deps);
        self
    }
    /// Waits for these only to be created (see [`Resource::uses`]).
    pub(super) fn uses(mut self, deps: impl IntoIterator<Item = ResourceId>) -> Self {
        self.resource.uses.extend(deps);
        self
    }
    pub(super) fn show(mut self, settings: Vec<(&str, String)>) -> Self {
        self.resource
            .settings
            .extend(settings.into_iter().map(|(k, v)| (k.to_string(), v)));
        self
    }
    pub(super) fn payload(mut self, payload: Payload) -> Self {
        self.resource.payload = payload;
        self
    }
}

pub(super) fn node(id: ResourceId, kind: Kind, name: impl Into<String>) -> Node {
    Node {
        resource: Resource {
            id,
            kind,
            name: name.into(),
            settings: Vec::new(),
            depends_on: Vec::new(),
            uses: Vec::new(),
            payload: Payload::None,
        },
    }
}

impl<'a> Builder<'a> {
    pub(super) fn new(spec: &'a Spec) -> Self {
        Builder {
            spec,
            out: Vec::new(),
        }
    }

    pub(super) fn add(&mut self, n: Node) {
        self.out.push(n.resource);
    }

    pub(super) fn has(&self, id: &ResourceId) -> bool {
        self.out.iter().any(|r| &r.id == id)
    }

    pub(super) fn prefixed(&self, name: &str) -> String {
        format!("pipectl-{}-{name}", self.spec.stack.name)
    }

    /// A role's name: the spec's, else one derived from the stack.
    pub(super) fn role_name(&self, role: &Role, default: &str) -> String {
        role.name.clone().unwrap_or_else(|| self.prefixed(default))
    }
}
