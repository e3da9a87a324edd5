//! Office hours, holidays and working-day deadlines (issue 7).
