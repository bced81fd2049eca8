//! A status page's incidents: [`duration`] (plain, host-tested) and the
//! [`Incidents`] view.

use leptos::prelude::*;
use mcprobe_core::time::utc_minute as iso_time;
use mcprobe_monitor::history::IncidentList;

use crate::rich::rich;

/// `95 ms`, `42 s`, `3 min`, `2 h 5 min`, `3 d 4 h`.
pub fn duration(ms: u64) -> String {
    let s = ms / 1000;
    match s {
        0 => format!("{ms} ms"),
        1..=59 => format!("{s} s"),
        60..=3599 => format!("{} min", s / 60),
        3600..=86_399 => format!("{} h {} min", s / 3600, (s % 3600) / 60),
        _ => format!("{} d {} h", s / 86_400, (s % 86_400) / 3600),
    }
}

/// The incidents, newest first, each with its modes, reason and hint.
#[component]
pub fn Incidents(list: IncidentList) -> impl IntoView {
    view! {
        <section id="incidents" aria-labelledby="inc-title">
            <h2 id="inc-title">{format!("Incidents ({})", list.total)}</h2>
            {if list.incidents.is_empty() {
                view! { <p>"No incidents."</p> }.into_any()
            } else {
                view! {
                    <ul>
                        {list.incidents.into_iter().map(|i| {
                            let modes: Vec<&str> = i.modes.iter().map(|m| m.as_str()).collect();
                            view! {
                                <li class="incident" data-open=i.open.to_string() data-status=i.status.as_str()>
                                    <strong>{iso_time(i.started_ms)}</strong>
                                    " · "
                                    {if i.open { format!("ongoing, {}", duration(i.duration_ms)) } else { duration(i.duration_ms) }}
                                    " · "
                                    <code>{modes.join(", ")}</code>
                                    <br/>
                                    <span class="reason">{i.reason.clone()}</span>
                                    {i.hint.clone().map(|h| view! { <br/><span class="note">{rich(&h)}</span> })}
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }
                .into_any()
            }}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mcprobe_core::time::utc_day as iso_day;

    #[test]
    fn durations_and_times_read_well() {
        assert_eq!(duration(950), "950 ms");
        assert_eq!(duration(42_000), "42 s");
        assert_eq!(duration(7_500_000), "2 h 5 min");
        assert_eq!(duration(3 * 86_400_000 + 4 * 3_600_000), "3 d 4 h");
        assert_eq!(iso_time(0), "1970-01-01 00:00 UTC");
        assert_eq!(iso_time(1_763_893_860_000), "2025-11-23 10:31 UTC");
        assert_eq!(iso_day(951_782_400_000), "2000-02-29");
    }
}
