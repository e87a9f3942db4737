-- grain: one row per note on the record (data/notes.py) for exactly this scope (each
--   level NULL for 'all', as the drill-down's breadcrumbs), about this KPI (or every KPI; '' for the notes on
--   any KPI),
--   dated in [:first_day, :last_day], that the viewer may see: a department's notes to
--   its viewers, a scope across departments to a viewer of every department only
-- params:
--   :departments    department ids the viewer may see (list)
--   :kpi            the KPI's registry name ('' for any)
--   :department_id  the scope's levels ('' for all)
--   :service_id
--   :office_id
--   :channel
--   :first_day      first day (inclusive)
--   :last_day       last day (inclusive)
-- columns:
--   note_id        Int64
--   kpi            String
--   noted_on       Date
--   note           String
--   written_by     String
--   written_at     Datetime
SELECT n.note_id, n.kpi, n.noted_on, n.note, n.written_by, n.written_at
FROM kpi_notes n
WHERE (COALESCE(:kpi, '') = '' OR n.kpi = :kpi OR n.kpi IS NULL)  -- COALESCE(..., ''): ADBC's PostgreSQL driver binds '' as NULL
  AND COALESCE(n.department_id, '') = COALESCE(:department_id, '')
  AND COALESCE(n.service_id, '') = COALESCE(:service_id, '')
  AND COALESCE(n.office_id, '') = COALESCE(:office_id, '')
  AND COALESCE(n.channel, '') = COALESCE(:channel, '')
  AND n.noted_on BETWEEN :first_day AND :last_day
  AND (n.department_id IN :departments
       OR (n.department_id IS NULL
           AND EXISTS (SELECT 1 FROM departments d WHERE d.department_id IN :departments)
           AND NOT EXISTS (SELECT 1 FROM departments d WHERE d.department_id NOT IN :departments)))
ORDER BY n.noted_on, n.note_id
