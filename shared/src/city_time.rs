//! The city's local time (Europe/Paris), for dates written in pages a citizen reads.
//!
//! The database converts with its time zone rules where it can; a page built from values
//! already read needs the rule here. Since 1996 the European Union switches to summer time
//! on the last Sunday of March at 01:00 UTC and back on the last Sunday of October at
//! 01:00 UTC: UTC+2 in between, UTC+1 otherwise.

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset, Weekday};

fn last_sunday(year: i32, month: Month) -> Option<Date> {
    let mut day = Date::from_calendar_date(year, month, month.length(year)).ok()?;
    while day.weekday() != Weekday::Sunday {
        day = day.previous_day()?;
    }
    Some(day)
}

/// The offset of Paris from UTC at instant `t`.
pub fn paris_offset(t: OffsetDateTime) -> UtcOffset {
    let utc = t.to_offset(UtcOffset::UTC);
    let year = utc.year();
    let one_am = Time::from_hms(1, 0, 0).unwrap_or(Time::MIDNIGHT);
    let switch = |month| last_sunday(year, month).map(|d| PrimitiveDateTime::new(d, one_am));
    let now = PrimitiveDateTime::new(utc.date(), utc.time());
    let summer = matches!((switch(Month::March), switch(Month::October)),
        (Some(start), Some(end)) if now >= start && now < end);
    let hours = if summer { 2 } else { 1 };
    UtcOffset::from_hms(hours, 0, 0).unwrap_or(UtcOffset::UTC)
}

/// `t` as a wall-clock time in Paris.
pub fn in_paris(t: OffsetDateTime) -> OffsetDateTime {
    t.to_offset(paris_offset(t))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn winter_is_one_hour_ahead() {
        let t = in_paris(datetime!(2026-01-15 12:00 UTC));
        assert_eq!((t.hour(), t.minute()), (13, 0));
    }

    #[test]
    fn summer_is_two_hours_ahead() {
        let t = in_paris(datetime!(2026-07-01 22:30 UTC));
        assert_eq!((t.day(), t.hour(), t.minute()), (2, 0, 30));
    }

    #[test]
    fn switches_at_one_in_the_morning_utc() {
        // 2026: last Sundays are 29 March and 25 October.
        assert_eq!(
            paris_offset(datetime!(2026-03-29 00:59 UTC)).whole_hours(),
            1
        );
        assert_eq!(
            paris_offset(datetime!(2026-03-29 01:00 UTC)).whole_hours(),
            2
        );
        assert_eq!(
            paris_offset(datetime!(2026-10-25 00:59 UTC)).whole_hours(),
            2
        );
        assert_eq!(
            paris_offset(datetime!(2026-10-25 01:00 UTC)).whole_hours(),
            1
        );
    }
}
