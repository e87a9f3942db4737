-- Row-level security on PostgreSQL (python -m data secure): the dashboard's own login role,
-- and policies on every table of sql/schema/ that restrict the rows a session sees to the
-- departments set for its transaction in kpi.departments, as the extracts of sql/ scope
-- them by :departments. PostgreSQL only; idempotent (run it again after a schema change).
--
-- Run as a superuser (CREATE ROLE needs one, or CREATEROLE), after the schema exists, with
-- the role's name in the setting kpi.app_role, which `python -m data secure --role NAME`
-- sets as a bound value. From psql:
--   SET kpi.app_role = 'kpi_dashboard';
--   \i sql/security/postgresql_row_security.sql
--
-- kpi.departments: the department ids a viewer may see, comma-separated
--   ('revenue,transport'), or '*' for every department. data/extracts.py sets it for the
--   transaction of every extract on PostgreSQL (set_config('kpi.departments', ..., true)).
--   Unset or empty: the policies return no rows. A viewer "of every department" (who sees
--   the rows that belong to none: contacts without a service, totals, imports' rejects)
--   is one whose setting is '*' or names every department in the departments table.
--
-- Who is bound: every role but the tables' owner (and superusers, which bypass row-level
-- security always). The owner is the loader: python -m data generate and import, the
-- forecast and anomaly runs, notify send and metrics publish run as the owner and see
-- every row, as they must. Row security is therefore ENABLEd, not FORCEd: forcing it on the
-- owner would hide rows from those jobs (they would each have to set '*'), and a
-- superuser would bypass it anyway. The dashboard must connect as the role made here,
-- never as the owner; the role is refused if it owns the tables or is a member of their
-- owner's role (membership gives the owner's bypass).
--
-- The role gets the least it needs: SELECT on every table, INSERT on anomaly_acks
-- (acknowledgements), INSERT and UPDATE (active) on subscriptions, the two id sequences
-- those inserts draw from, and nothing else (no DELETE, no TRUNCATE, no DDL; the
-- notification log is written by python -m notify send, as the owner). Writes are checked
-- by the policies too: a row the viewer could not see cannot be written.
--
-- What this defends against: a query that forgets its department filter. It does not
-- stand against code that runs as the role and sets kpi.departments itself: which
-- departments a viewer may see is the app layer's decision, which this holds it to.

-- ------------------------------------------------------------------------------ the role

DO $$
DECLARE
    app_role text := COALESCE(current_setting('kpi.app_role', true), '');
    existing record;
BEGIN
    IF app_role !~ '^[a-z_][a-z0-9_]{0,62}$' OR app_role LIKE 'pg\_%' THEN
        RAISE EXCEPTION 'kpi.app_role % is not a role name for the dashboard: lower-case letters, digits and _, at most 63, not starting pg_',
            quote_literal(app_role);
    END IF;
    IF app_role = current_user THEN
        RAISE EXCEPTION 'role % is the role applying this script: the dashboard needs a role of its own', app_role;
    END IF;
    SELECT rolsuper, rolbypassrls, rolcanlogin INTO existing FROM pg_roles WHERE rolname = app_role;
    IF NOT FOUND THEN
        -- no password: an administrator sets one (ALTER ROLE ... PASSWORD) or allows the
        -- role in pg_hba.conf (peer, cert, ...)
        EXECUTE format('CREATE ROLE %I LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOREPLICATION', app_role);
    ELSIF existing.rolsuper OR existing.rolbypassrls THEN
        RAISE EXCEPTION 'role % exists and is a superuser or has BYPASSRLS, which bypass row-level security: name another role', app_role;
    ELSIF NOT existing.rolcanlogin THEN
        EXECUTE format('ALTER ROLE %I LOGIN', app_role);
    END IF;
    IF EXISTS (SELECT 1 FROM pg_tables t
               WHERE t.schemaname = current_schema() AND pg_has_role(app_role, t.tableowner, 'USAGE')) THEN
        RAISE EXCEPTION 'role % owns the tables or is a member of their owner, and row-level security does not bind a table''s owner: name another role',
            app_role;
    END IF;
END $$;

-- ----------------------------------------------------------------- the viewer's departments

-- The departments of kpi.departments ('*': every department). SECURITY DEFINER, like the
-- three below, so that they read departments and services whole (as the owner, whom row
-- security does not bind) whatever the caller may see. Policies call them once per query,
-- not once per row: as IN (SELECT unnest(kpi_departments())) and (SELECT kpi_sees_all()).
CREATE OR REPLACE FUNCTION kpi_departments() RETURNS text[]
LANGUAGE sql STABLE SECURITY DEFINER
AS $$
    SELECT CASE
        WHEN btrim(COALESCE(current_setting('kpi.departments', true), '')) = '*'
            THEN COALESCE((SELECT array_agg(d.department_id::text ORDER BY d.department_id) FROM departments d), '{}')
        ELSE COALESCE((SELECT array_agg(DISTINCT btrim(part))
                       FROM unnest(string_to_array(current_setting('kpi.departments', true), ',')) AS part
                       WHERE btrim(part) <> ''), '{}')
    END
$$;

-- The services of those departments.
CREATE OR REPLACE FUNCTION kpi_services() RETURNS text[]
LANGUAGE sql STABLE SECURITY DEFINER
AS $$
    SELECT COALESCE(array_agg(s.service_id::text ORDER BY s.service_id), '{}')
    FROM services s
    WHERE s.department_id = ANY (kpi_departments())
$$;

-- Whether the viewer may see some department (the extracts' EXISTS (... IN :departments)):
-- what offices, opening hours and the records of runs and loads are shown on.
CREATE OR REPLACE FUNCTION kpi_sees_any() RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER
AS $$
    SELECT EXISTS (SELECT 1 FROM departments d WHERE d.department_id = ANY (kpi_departments()))
$$;

-- Whether the viewer may see every department (the setting is '*' or names them all): the
-- rows that belong to no department are theirs.
CREATE OR REPLACE FUNCTION kpi_sees_all() RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER
AS $$
    SELECT EXISTS (SELECT 1 FROM departments d WHERE d.department_id = ANY (v.departments))
       AND NOT EXISTS (SELECT 1 FROM departments d WHERE d.department_id <> ALL (v.departments))
    FROM (SELECT kpi_departments() AS departments) v
$$;

-- A SECURITY DEFINER function must not find its tables (or operators) through a caller's
-- search_path: pin it to this schema.
DO $$
DECLARE
    name text;
BEGIN
    FOREACH name IN ARRAY ARRAY['kpi_departments', 'kpi_services', 'kpi_sees_any', 'kpi_sees_all'] LOOP
        EXECUTE format('ALTER FUNCTION %I() SET search_path = pg_catalog, %I, pg_temp', name, current_schema());
    END LOOP;
END $$;

-- ------------------------------------------------------------------------- the privileges

DO $$
DECLARE
    app_role text := current_setting('kpi.app_role');
    name text;
    stale text;
BEGIN
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', current_schema(), app_role);
    FOREACH name IN ARRAY ARRAY[
        'departments', 'services', 'offices', 'office_hours', 'office_closures',
        'cases', 'contacts', 'journeys', 'feedback', 'costs', 'incidents', 'series', 'observations',
        'data_loads', 'imports', 'import_rule_counts', 'import_rejects', 'import_keys', 'releases',
        'forecast_runs', 'forecast_series', 'forecasts', 'forecast_backtests',
        'anomaly_runs', 'anomaly_flags', 'anomaly_scores', 'anomaly_acks', 'subscriptions', 'notifications',
        'audit_events', 'kpi_notes', 'roster_shifts'
    ] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', name);
        -- policies are permissive and combine with OR: one left by an earlier version of
        -- this script would widen what a viewer sees, so every kpi_ policy goes first
        FOR stale IN SELECT p.policyname FROM pg_policies p
                     WHERE p.schemaname = current_schema() AND p.tablename = name AND p.policyname LIKE 'kpi\_%' LOOP
            EXECUTE format('DROP POLICY %I ON %I', stale, name);
        END LOOP;
        EXECUTE format('REVOKE ALL ON TABLE %I FROM %I', name, app_role);
        EXECUTE format('GRANT SELECT ON TABLE %I TO %I', name, app_role);
    END LOOP;
    -- what the dashboard writes: acknowledgements (anomalies.store.acknowledge) and
    -- subscriptions (notify.subscriptions.add_subscription, set_subscription_active)
    EXECUTE format('GRANT INSERT ON TABLE anomaly_acks TO %I', app_role);
    -- notes on the record (data/notes.add_note), never edited
    EXECUTE format('GRANT INSERT ON TABLE kpi_notes TO %I', app_role);
    -- a week's roster edited on the planner page (data/rosters.save_week)
    EXECUTE format('GRANT INSERT, UPDATE, DELETE ON TABLE roster_shifts TO %I', app_role);
    EXECUTE format('GRANT INSERT, UPDATE (active) ON TABLE subscriptions TO %I', app_role);
    -- and the audit, which it may add to but never change (no UPDATE, no DELETE)
    EXECUTE format('GRANT INSERT ON TABLE audit_events TO %I', app_role);
    EXECUTE format('REVOKE ALL ON SEQUENCE anomaly_ack_ids, subscription_ids, audit_ids, kpi_note_ids FROM %I', app_role);
    EXECUTE format('GRANT USAGE ON SEQUENCE anomaly_ack_ids, subscription_ids, audit_ids, kpi_note_ids TO %I', app_role);
    EXECUTE format('GRANT EXECUTE ON FUNCTION kpi_departments(), kpi_services(), kpi_sees_any(), kpi_sees_all() TO %I', app_role);
END $$;

-- ------------------------------------------------------------------------------ policies
-- One policy per table, kpi_scope, for every role row security binds (PUBLIC) and every
-- command: its USING mirrors the WHERE of the table's extract, and serves as the WITH CHECK
-- of inserts and updates too, so a row the viewer could not see cannot be written. Which
-- commands a role may run at all is up to its privileges above (the dashboard's: SELECT,
-- and INSERT or UPDATE where it writes). A table whose rows belong to a row of another table
-- (a forecast to its series, an acknowledgement to its flag, a notification to its
-- subscription) reads that table in its policy, and so sees it through that table's own
-- policy: it follows its owner's scope by construction.

-- Tables whose policies have the same shape are given it in one loop each:
-- kpi_scope_tables(policy, tables) drops and creates kpi_scope with USING (policy).
CREATE OR REPLACE FUNCTION pg_temp.kpi_scope_tables(policy text, tables text[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    name text;
BEGIN
    FOREACH name IN ARRAY tables LOOP
        EXECUTE format('DROP POLICY IF EXISTS kpi_scope ON %I', name);
        EXECUTE format('CREATE POLICY kpi_scope ON %I USING (%s)', name, policy);
    END LOOP;
END $$;

-- Dimensions: a department, and the services of a department.
SELECT pg_temp.kpi_scope_tables('department_id IN (SELECT unnest(kpi_departments()))', ARRAY['departments', 'services']);

-- Seen by a viewer of any department (the extracts' EXISTS (... IN :departments)):
-- offices and their hours and closures (offices serve every department,
-- sql/offices.sql); what a series of observations measures; the records of loads,
-- imports and their rule counts (the catalogue shows them to every viewer); the records of
-- forecast and anomaly runs.
SELECT pg_temp.kpi_scope_tables('(SELECT kpi_sees_any())', ARRAY[
    'offices', 'office_hours', 'office_closures', 'series',
    'data_loads', 'imports', 'import_rule_counts', 'forecast_runs', 'anomaly_runs']);

-- A roster's shifts (sql/roster_shifts.sql): an office's, and offices serve every
-- department, so only a viewer of every department (who alone may plan an office's whole
-- queue) reads, adds, changes or removes them; the USING is the WITH CHECK too.
SELECT pg_temp.kpi_scope_tables('(SELECT kpi_sees_all())', ARRAY['roster_shifts']);

-- An administrator's, seen only by a viewer of every department (no extract reads them):
-- the quarantined rows themselves (raw rows of any department), the import keys (which row
-- each source key became) and the open-data releases' audit.
SELECT pg_temp.kpi_scope_tables('(SELECT kpi_sees_all())', ARRAY['import_rejects', 'import_keys', 'releases']);

-- Facts of a service: its department's.
SELECT pg_temp.kpi_scope_tables('service_id IN (SELECT unnest(kpi_services()))', ARRAY['cases', 'journeys', 'feedback']);

-- A contact or cost without a service is seen only by a viewer of every department.
SELECT pg_temp.kpi_scope_tables(
    'service_id IN (SELECT unnest(kpi_services())) OR (service_id IS NULL AND (SELECT kpi_sees_all()))',
    ARRAY['contacts', 'costs']);

-- A forecast series or an anomaly flag or score: its department's, or (none: totals,
-- offices, channels, contacts) a viewer of every department's. NULL IN (...) is NULL
-- (false for an empty list: no setting, no rows), so COALESCE falls through to
-- kpi_sees_all() exactly when the row has no department.
SELECT pg_temp.kpi_scope_tables(
    'COALESCE(department_id IN (SELECT unnest(kpi_departments())), (SELECT kpi_sees_all()))',
    ARRAY['forecast_series', 'anomaly_flags', 'anomaly_scores']);

-- Incidents: their department's, or (none) every viewer's (sql/incidents.sql).
DROP POLICY IF EXISTS kpi_scope ON incidents;
CREATE POLICY kpi_scope ON incidents
    USING ((department_id IS NULL OR department_id IN (SELECT unnest(kpi_departments()))) AND (SELECT kpi_sees_any()));

-- An observation (sql/observations.sql) or a subscription (sql/subscriptions.sql; read,
-- inserted and updated, before and after) is its department's, else its service's
-- department's, else a viewer of every department's (the COALESCE as above). The lookup in
-- services is itself bound by services' policy, so a service of another department counts
-- as none, which a viewer of only some departments does not see.
DROP POLICY IF EXISTS kpi_scope ON observations;
CREATE POLICY kpi_scope ON observations
    USING (COALESCE(COALESCE(department_id, (SELECT s.department_id FROM services s WHERE s.service_id = observations.service_id))
                        IN (SELECT unnest(kpi_departments())),
                    (SELECT kpi_sees_all())));

DROP POLICY IF EXISTS kpi_scope ON subscriptions;
CREATE POLICY kpi_scope ON subscriptions
    USING (COALESCE(COALESCE(department_id, (SELECT s.department_id FROM services s WHERE s.service_id = subscriptions.service_id))
                        IN (SELECT unnest(kpi_departments())),
                    (SELECT kpi_sees_all())));

-- Rows that belong to a row of another table follow it: a forecast and a backtest their
-- series, an acknowledgement its flag (by flag_key, in any stored run; sql/anomaly_acks.sql),
-- a notification its subscription (sql/notifications.sql).
DROP POLICY IF EXISTS kpi_scope ON forecasts;
CREATE POLICY kpi_scope ON forecasts
    USING (EXISTS (SELECT 1 FROM forecast_series s WHERE s.run_id = forecasts.run_id AND s.series_id = forecasts.series_id));

DROP POLICY IF EXISTS kpi_scope ON forecast_backtests;
CREATE POLICY kpi_scope ON forecast_backtests
    USING (EXISTS (SELECT 1 FROM forecast_series s WHERE s.run_id = forecast_backtests.run_id AND s.series_id = forecast_backtests.series_id));

DROP POLICY IF EXISTS kpi_scope ON anomaly_acks;
CREATE POLICY kpi_scope ON anomaly_acks
    USING (EXISTS (SELECT 1 FROM anomaly_flags f WHERE f.flag_key = anomaly_acks.flag_key));

-- A note is its department's (sql/kpi_notes.sql); one across departments (NULL) is for a
-- viewer of every department.
DROP POLICY IF EXISTS kpi_scope ON kpi_notes;
CREATE POLICY kpi_scope ON kpi_notes
    USING (COALESCE(department_id IN (SELECT unnest(kpi_departments())), (SELECT kpi_sees_all())));

DROP POLICY IF EXISTS kpi_scope ON notifications;
CREATE POLICY kpi_scope ON notifications
    USING (EXISTS (SELECT 1 FROM subscriptions s WHERE s.subscription_id = notifications.subscription_id));

-- The audit names what anyone looked at: only a viewer of every department reads it;
-- anyone may add their own actions to it (WITH CHECK true), nobody may change it (no
-- UPDATE or DELETE privilege above).
DROP POLICY IF EXISTS kpi_scope ON audit_events;
CREATE POLICY kpi_scope ON audit_events
    USING (kpi_sees_all())
    WITH CHECK (true);
