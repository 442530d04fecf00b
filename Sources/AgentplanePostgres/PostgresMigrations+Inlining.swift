import AgentplaneStore

extension PostgresMigrations {
    /// Migration 19: the time conversions become inlinable. Both were declared `IMMUTABLE` over bodies that are
    /// only `STABLE` (`extract` from a `timestamptz`, `timestamptz + interval`), so the planner refused to inline
    /// them: every statement naming them re-parsed each body while planning, then ran each call as a function of
    /// its own, once per row and column (under `pg_stat_statements`, a wait-mode instance run cost 34 such calls,
    /// and reading one run by id spent 0.9 ms planning). The new bodies compute the same values through
    /// `timestamp` in UTC, whose operations are immutable, so they inline into the statements using them.
    static let inliningMigration = Migration(
        version: 19,
        name: "inlinable_time_functions",
        statements: [
            """
            CREATE OR REPLACE FUNCTION ap_ts(micros bigint) RETURNS timestamptz
            LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
            AS $$ SELECT ('epoch'::timestamp + (micros / 1000000) * interval '1 second'
                + (micros % 1000000) * interval '1 microsecond') AT TIME ZONE 'UTC' $$
            """,
            """
            CREATE OR REPLACE FUNCTION ap_micros(ts timestamptz) RETURNS bigint
            LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
            AS $$ SELECT (extract(epoch FROM ts AT TIME ZONE 'UTC') * 1000000)::bigint $$
            """,
        ]
    )
}
