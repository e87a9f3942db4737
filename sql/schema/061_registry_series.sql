-- The KPIs of the registry (metrics/registry.py) that observations may name as their series
-- instead of one a mapping declares: the ratios and counts (a median or a difference has no
-- parts that observations could carry). Written here, not by the importer, so that data/
-- needs nothing from metrics/ (docs/architecture.md); tests/metrics/test_registry.py keeps
-- these rows equal to the registry. Idempotent: a row already there is left as it is.
-- CHR(37) is the percent sign: written plainly, psycopg would read it as a placeholder.

INSERT INTO series (series_id, label, unit, direction, kind)
SELECT v.series_id, v.label, v.unit, v.direction, v.kind
FROM (VALUES
    ('volume', 'Volume', 'count', 'context', 'count'),
    ('digital_take_up', 'Digital take-up', CHR(37), 'higher', 'ratio'),
    ('completion_rate', 'Completion rate', CHR(37), 'higher', 'ratio'),
    ('satisfaction', 'User satisfaction', CHR(37), 'higher', 'ratio'),
    ('satisfaction_index', 'Satisfaction index', CHR(37), 'higher', 'ratio'),
    ('cost_per_transaction', 'Cost per transaction', '£', 'lower', 'ratio'),
    ('on_time_rate', 'On-time rate', CHR(37), 'higher', 'ratio'),
    ('backlog', 'Backlog', 'count', 'lower', 'count'),
    ('backlog_overdue', 'Overdue backlog', 'count', 'lower', 'count'),
    ('wait_within_target', 'Seen within 15 minutes', CHR(37), 'higher', 'ratio'),
    ('asa', 'Average speed of answer', 'seconds', 'lower', 'ratio'),
    ('service_level', 'Service level (20 s)', CHR(37), 'higher', 'ratio'),
    ('abandonment_rate', 'Call abandonment', CHR(37), 'lower', 'ratio'),
    ('aht', 'Average handle time', 'minutes', 'context', 'ratio'),
    ('first_contact_resolution', 'First-contact resolution', CHR(37), 'higher', 'ratio')
) AS v (series_id, label, unit, direction, kind)
WHERE NOT EXISTS (SELECT 1 FROM series s WHERE s.series_id = v.series_id);
