//! The channels' documented limits, and the tighter ones we choose. Every
//! text is cut to these in UTF-16 units (see [`super::text`]).

/// Slack: header text.
pub const SLACK_HEADER: usize = 150;
/// Slack: a section's text.
pub const SLACK_SECTION_TEXT: usize = 3000;
/// Slack: one section field's text, and at most this many fields.
pub const SLACK_FIELD_TEXT: usize = 2000;
pub const SLACK_FIELDS: usize = 10;
/// Slack: context elements.
pub const SLACK_CONTEXT_ELEMENTS: usize = 10;
/// Slack: a button's text and URL.
pub const SLACK_BUTTON_TEXT: usize = 75;
pub const SLACK_BUTTON_URL: usize = 3000;
/// Slack: the notification fallback `text` (the API takes 40,000; a
/// notification shows far less).
pub const SLACK_FALLBACK_TEXT: usize = 3000;
/// Discord: embed title, description, field name and value, footer, the
/// number of fields and all of an embed's text together.
pub const DISCORD_TITLE: usize = 256;
pub const DISCORD_DESCRIPTION: usize = 4096;
pub const DISCORD_FIELD_NAME: usize = 256;
pub const DISCORD_FIELD_VALUE: usize = 1024;
pub const DISCORD_FOOTER: usize = 2048;
pub const DISCORD_FIELDS: usize = 25;
pub const DISCORD_EMBED_TOTAL: usize = 6000;
/// PagerDuty: `payload.summary` and `dedup_key`.
pub const PAGERDUTY_SUMMARY: usize = 1024;
pub const PAGERDUTY_DEDUP_KEY: usize = 255;
/// Ours: `payload.source`, `component`, `group` (PagerDuty names no limit).
pub const PAGERDUTY_SHORT: usize = 255;
/// Opsgenie: message, alias, description, entity, source, note, tags.
pub const OPSGENIE_MESSAGE: usize = 130;
pub const OPSGENIE_ALIAS: usize = 512;
pub const OPSGENIE_DESCRIPTION: usize = 15_000;
pub const OPSGENIE_ENTITY: usize = 512;
pub const OPSGENIE_SOURCE: usize = 100;
pub const OPSGENIE_NOTE: usize = 25_000;
pub const OPSGENIE_TAGS: usize = 20;
pub const OPSGENIE_TAG: usize = 50;
/// Opsgenie: all `details` keys and values together.
pub const OPSGENIE_DETAILS_TOTAL: usize = 8000;
/// Ours: drift changes and digest items listed in one message.
pub const LIST_ITEMS: usize = 50;
/// Ours: a reason in the generic webhook.
pub const WEBHOOK_TEXT: usize = 2000;
