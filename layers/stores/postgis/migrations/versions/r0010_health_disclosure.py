"""Health aggregates: no count of fewer than k people derivable from the stored deliveries, held by the database.

The app checks a delivery before writing it (:mod:`geo.disclosure`); a department's own login writing rows
directly (QGIS, psql) meets the same rule here, when its transaction commits (a file's rows are judged
together, in whatever order they were inserted):

- ``onemap_indicator_facts``: each indicator's kind, whether it is counted from the start of the year, and the
  indicator it is a subgroup of — kept equal to the app's catalogue of indicators by the owner.
- ``onemap_health_derivable``: a current row whose unit's count minus its delivered sub-units' (or whose
  parent's count minus the parent's delivered sub-units'), whose year-to-date count minus an earlier period's
  of a cumulative indicator, whose denominator minus its numerator, or whose total minus its subgroup gives
  between 1 and k − 1 people is refused.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def q(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def upgrade(schema: str) -> None:
    """Create the indicator facts, the period function and the deferred check."""
    s = q(schema)
    definer = "SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp"
    op.execute(f"CREATE TABLE {s}.onemap_indicator_facts (code text PRIMARY KEY, kind text NOT NULL, "
               "cumulative boolean NOT NULL DEFAULT false, part_of text)")
    op.execute(f"""CREATE OR REPLACE FUNCTION {s}.onemap_period_end(p text) RETURNS integer LANGUAGE sql IMMUTABLE
        AS $$ SELECT CASE
            WHEN p ~ '^[0-9]{{4}}$' THEN substr(p, 1, 4)::integer * 100 + 12
            WHEN p ~ '^[0-9]{{4}}H[12]$' THEN substr(p, 1, 4)::integer * 100 + 6 * substr(p, 6, 1)::integer
            WHEN p ~ '^[0-9]{{4}}Q[1-4]$' THEN substr(p, 1, 4)::integer * 100 + 3 * substr(p, 6, 1)::integer
            WHEN p ~ '^[0-9]{{4}}-[0-9]{{2}}$' THEN substr(p, 1, 4)::integer * 100 + substr(p, 6, 2)::integer
          END $$""")
    people = "coalesce({r}.count::numeric, round({r}.rate::numeric * {r}.denominator))"
    me, other = people.format(r="NEW"), people.format(r="o")
    cur = f"{s}.onemap_records_health_indicators"
    op.execute(f"""CREATE OR REPLACE FUNCTION {s}.onemap_health_derivable() RETURNS trigger LANGUAGE plpgsql
        {definer} AS $$
        DECLARE
          k integer := (SELECT value::integer FROM {s}.onemap_policy WHERE name = 'health_min_count');
          facts record;
          mine numeric;
          unit text;
          total numeric;
          parts numeric;
          parent text;
          left_over numeric;
        BEGIN
          IF NEW.valid_to IS NOT NULL THEN RETURN NULL; END IF;
          -- the row as it stands at commit (a later statement of the transaction may have ended it)
          IF NOT EXISTS (SELECT 1 FROM {cur} o WHERE o.rid = NEW.rid AND o.valid_to IS NULL) THEN RETURN NULL; END IF;
          mine := {me};
          SELECT * INTO facts FROM {s}.onemap_indicator_facts WHERE code = NEW.indicator;
          -- a total minus its subgroup: those measured and not in the group
          IF NEW.denominator IS NOT NULL AND mine IS NOT NULL AND NEW.denominator - mine > 0
             AND NEW.denominator - mine < k THEN
            RAISE EXCEPTION 'health indicator %: % minus its numerator leaves % people, fewer than k = %',
              NEW.indicator, NEW.unit_code, NEW.denominator - mine, k USING ERRCODE = 'check_violation';
          END IF;
          IF facts.part_of IS NOT NULL THEN
            SELECT {other} INTO total FROM {cur} o WHERE o.valid_to IS NULL AND o.indicator = facts.part_of
              AND o.unit_code = NEW.unit_code AND o.period = NEW.period;
            IF total - mine > 0 AND total - mine < k THEN
              RAISE EXCEPTION 'health indicator %: % minus this part leaves % people, fewer than k = %',
                facts.part_of, NEW.unit_code, total - mine, k USING ERRCODE = 'check_violation';
            END IF;
          END IF;
          FOR total IN SELECT mine - {other} FROM {cur} o JOIN {s}.onemap_indicator_facts f ON f.code = o.indicator
              AND f.part_of IS NULL WHERE o.valid_to IS NULL AND o.unit_code = NEW.unit_code
              AND o.period = NEW.period AND o.indicator IN (SELECT code FROM {s}.onemap_indicator_facts
                                                            WHERE part_of = NEW.indicator) LOOP
            IF total > 0 AND total < k THEN
              RAISE EXCEPTION 'health indicator %: % minus a part leaves % people, fewer than k = %',
                NEW.indicator, NEW.unit_code, total, k USING ERRCODE = 'check_violation';
            END IF;
          END LOOP;
          -- one period minus an earlier one of the same year, for an indicator counted from the year's start
          IF facts.cumulative AND mine IS NOT NULL THEN
            FOR total IN SELECT abs(mine - {other}) FROM {cur} o WHERE o.valid_to IS NULL
                AND o.indicator = NEW.indicator AND o.unit_code = NEW.unit_code AND o.period <> NEW.period
                AND {s}.onemap_period_end(o.period) / 100 = {s}.onemap_period_end(NEW.period) / 100 LOOP
              IF total > 0 AND total < k THEN
                RAISE EXCEPTION 'health indicator %: % between two periods of one year differs by % people, '
                  'fewer than k = %', NEW.indicator, NEW.unit_code, total, k USING ERRCODE = 'check_violation';
              END IF;
            END LOOP;
          END IF;
          -- a unit minus its delivered sub-units: for the row's own unit and for its parent
          IF to_regclass('{schema}.boundaries') IS NOT NULL THEN
            EXECUTE format('SELECT parent_code FROM %I.boundaries WHERE code = $1 LIMIT 1', '{schema}')
              INTO parent USING NEW.unit_code;
            FOREACH unit IN ARRAY ARRAY[NEW.unit_code, parent] LOOP
              CONTINUE WHEN unit IS NULL;
              SELECT {other} INTO total FROM {cur} o WHERE o.valid_to IS NULL AND o.indicator = NEW.indicator
                AND o.period = NEW.period AND o.unit_code = unit;
              CONTINUE WHEN total IS NULL;
              EXECUTE format('SELECT sum(coalesce(o.count::numeric, round(o.rate::numeric * o.denominator))) '
                             'FROM %I.onemap_records_health_indicators o JOIN %I.boundaries b ON b.code = o.unit_code '
                             'WHERE o.valid_to IS NULL AND o.indicator = $1 AND o.period = $2 AND b.parent_code = $3 '
                             'AND b.code <> $3', '{schema}', '{schema}')
                INTO parts USING NEW.indicator, NEW.period, unit;
              left_over := total - parts;
              IF left_over > 0 AND left_over < k THEN
                RAISE EXCEPTION 'health indicator %: % minus its delivered parts leaves % people, fewer than k = %',
                  NEW.indicator, unit, left_over, k USING ERRCODE = 'check_violation';
              END IF;
            END LOOP;
          END IF;
          RETURN NULL;
        END $$""")
    op.execute(f"CREATE CONSTRAINT TRIGGER onemap_health_derivable AFTER INSERT OR UPDATE ON {cur} "
               f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION {s}.onemap_health_derivable()")
    op.execute(f"REVOKE ALL ON ALL FUNCTIONS IN SCHEMA {s} FROM PUBLIC")


def downgrade(schema: str) -> None:
    """Stores are upgraded only; restore a backup to go back."""
    raise NotImplementedError("the store's schema is upgraded only; restore a backup to go back")
