//! Start here: how a failed load looks, the one fallback every
//! [`ErrorBoundary`] of the page shows: each error's sentence
//! ([`crate::api::ApiError`]'s `Display`) in an alert paragraph.

use leptos::prelude::*;

/// The `fallback` of an [`ErrorBoundary`]: `<p class="error" role="alert">`.
pub fn alert(errors: ArcRwSignal<Errors>) -> impl IntoView {
    view! {
        <p class="error" role="alert">
            {move || errors.get().into_iter().map(|(_, e)| e.to_string()).collect::<Vec<_>>().join("; ")}
        </p>
    }
}
