//! Which StorageClasses are the default: the annotation the admission plugin reads, and its
//! beta spelling that older clusters and installers still set.

use kubesnap_shared::model::{ClusterModel, Object};

/// The annotations that mark a default StorageClass.
pub(crate) const DEFAULT_ANNOTATIONS: &[&str] =
    &["storageclass.kubernetes.io/is-default-class", "storageclass.beta.kubernetes.io/is-default-class"];

/// Whether `class` is marked default (the value is compared as the API server does: `"true"`).
pub(crate) fn is_default(class: &Object) -> bool {
    let annotations = class.annotations();
    DEFAULT_ANNOTATIONS.iter().any(|key| annotations.get(*key).map(String::as_str) == Some("true"))
}

/// The default StorageClasses, by name.
pub(crate) fn defaults(model: &ClusterModel) -> Vec<&Object> {
    model.of_kind("StorageClass").filter(|class| is_default(class)).collect()
}
