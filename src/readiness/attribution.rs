//! Attribution: every resource of the application is attributed to it, and every shared
//! resource it uses carries the consumer tag naming exactly the applications that use it.

use super::{Criterion, Ctx};

/// The attribution criteria of the application.
pub fn criteria(ctx: &Ctx<'_, '_>) -> Vec<Criterion> {
    vec![
        ctx.from_checks(
            "resources-attributed",
            "Every resource the application uses is attributed to an application",
            &["application-resource-unattributed"],
        ),
        ctx.from_checks(
            "shared-tagged",
            "Every shared resource it uses carries the consumer tag",
            &["shared-resource-untagged"],
        ),
        ctx.from_checks(
            "shared-tags-correct",
            "Every shared resource's consumer tag names exactly its users",
            &["shared-resource-tag-mismatch"],
        ),
    ]
}
